import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { InvalidCookie } from '../errors.js'
import { createCookieSealer } from './cookie-crypto.js'
import { COOKIE_KINDS, cookieValues, createCookieJar } from './cookies.js'

let clock = 1_700_000_000_000
const now = () => clock
const sealer = createCookieSealer({
  keys: [{ id: 'k1', key: randomBytes(32) }],
  currentKeyId: 'k1',
})
const jar = createCookieJar(
  { namePrefix: 'gh', basePath: '/tokenhandler', apiPath: '/' },
  sealer,
  now,
)

function attributes(setCookie: string): string {
  return setCookie
    .split(';')
    .slice(1)
    .map((part) => part.trim())
    .filter((part) => !part.startsWith('Max-Age') && !part.startsWith('Expires'))
    .join('; ')
}

describe('the cookie set', () => {
  it('uses __Host- on / without Domain and __Secure- on narrower paths', () => {
    expect(jar.specs.access).toEqual({ name: '__Host-gh-at', path: '/', domain: undefined })
    expect(jar.specs.csrf).toEqual({ name: '__Host-gh-csrf', path: '/', domain: undefined })
    expect(jar.specs.refresh).toEqual({
      name: '__Secure-gh-rt',
      path: '/tokenhandler',
      domain: undefined,
    })
    expect(jar.specs.id.path).toBe('/tokenhandler')
    expect(jar.specs.login).toEqual({
      name: '__Secure-gh-login',
      path: '/tokenhandler/login',
      domain: undefined,
    })
  })

  it('never uses __Host- with a Domain', () => {
    const wide = createCookieJar(
      { namePrefix: 'gh', domain: 'example.com', basePath: '', apiPath: '/' },
      sealer,
      now,
    )
    expect(wide.specs.access.name).toBe('__Secure-gh-at')
    expect(wide.set('access', 'x', 60)).toContain('; Domain=example.com;')
  })

  it('sets HttpOnly, Secure, SameSite=Strict, the path and Max-Age', () => {
    const line = jar.set('refresh', 'grt_x', 3600)
    expect(line).toMatch(
      /^__Secure-gh-rt=[A-Za-z0-9_-]+; Max-Age=3600; Path=\/tokenhandler; HttpOnly; Secure; SameSite=Strict$/,
    )
    expect(line).not.toContain('grt_x')
  })

  it('clears every cookie with exactly the name, path and attributes it was set with', () => {
    const cleared = jar.clearAll()
    expect(cleared).toHaveLength(COOKIE_KINDS.length)
    for (const [index, kind] of COOKIE_KINDS.entries()) {
      const set = jar.set(kind, 'v', 60)
      const clear = cleared[index] ?? ''
      expect(clear.startsWith(`${jar.specs[kind].name}=;`)).toBe(true)
      expect(attributes(clear)).toBe(attributes(set))
      expect(clear).toContain('Max-Age=0')
      expect(clear).toContain('Expires=Thu, 01 Jan 1970 00:00:00 GMT')
    }
  })

  it('opens a valid cookie, reports absent and expired ones', () => {
    const line = jar.set('access', 'gat_1', 300)
    const header = `other=1; ${line.split(';')[0]}`
    expect(jar.open(header, 'access')).toMatchObject({ status: 'valid', value: 'gat_1' })
    expect(jar.open('other=1', 'access')).toEqual({ status: 'absent' })
    expect(jar.open(undefined, 'access')).toEqual({ status: 'absent' })
    clock += 301_000
    expect(jar.open(header, 'access')).toEqual({ status: 'expired' })
  })

  it('refuses an access cookie replayed in the refresh slot', () => {
    const sealed = (jar.set('access', 'gat_1', 300).split(';')[0] ?? '').split('=')[1]
    expect(() => jar.open(`__Secure-gh-rt=${sealed}`, 'refresh')).toThrow(InvalidCookie)
  })

  it('takes the first copy that opens when a name arrives twice', () => {
    const good = (jar.set('csrf', 'token', 300).split(';')[0] ?? '').split('=')[1]
    const header = `__Host-gh-csrf=garbage; __Host-gh-csrf=${good}`
    expect(jar.open(header, 'csrf')).toMatchObject({ status: 'valid', value: 'token' })
    expect(() => jar.open('__Host-gh-csrf=garbage', 'csrf')).toThrow(InvalidCookie)
  })

  it('parses the Cookie header by exact name', () => {
    expect(cookieValues('a=1; ab=2;  a = 3 ; b="4"; c', 'a')).toEqual(['1', '3'])
    expect(cookieValues('b="4"', 'b')).toEqual(['4'])
    expect(cookieValues('a=', 'a')).toEqual([])
  })
})
