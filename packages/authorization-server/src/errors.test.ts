import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const SOURCE = new URL('.', import.meta.url).pathname
const DOCS = new URL('../../../docs/authorization-server.md', import.meta.url)
const PREFIXES = [
  'admin',
  'authorize',
  'client_auth',
  'code',
  'exchange',
  'form',
  'grant',
  'http',
  'introspect',
  'par',
  'pkce',
  'refresh',
  'resource',
  'revoke',
  'scope',
  'store',
  'userinfo',
  'consent',
  'login',
]
// Reasons built from a fixed set of parts (see authenticate-client.ts and authorize/checks.ts).
const COMPOSED = [
  'client_auth.assertion_invalid',
  'client_auth.assertion_replayed',
  'client_auth.assertion_too_long_lived',
  'authorize.request',
  'authorize.claims',
  'authorize.registration',
]

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'test-support' ? [] : sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

function reasonsInSource(): Set<string> {
  const reasons = new Set<string>()
  // Audit event types (`type: 'login.failed'`) are not reasons.
  const pattern = new RegExp(`(?<!type: )'((?:${PREFIXES.join('|')})\\.[a-z_]+)'`, 'g')
  for (const file of sourceFiles(SOURCE)) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) reasons.add(match[1] ?? '')
  }
  return reasons
}

function reasonsInDocs(): Set<string> {
  const docs = readFileSync(DOCS, 'utf8')
  const table = docs.slice(docs.indexOf('## Error reasons'))
  return new Set([...table.matchAll(/^\| `([a-z_]+\.[a-z_]+)`/gm)].map((match) => match[1] ?? ''))
}

describe('error reasons and docs/authorization-server.md', () => {
  it('documents every reason the code uses', () => {
    const documented = reasonsInDocs()
    const missing = [...reasonsInSource(), ...COMPOSED].filter((reason) => !documented.has(reason))
    expect(missing).toEqual([])
  })

  it('documents no reason the code no longer uses', () => {
    const used = new Set([...reasonsInSource(), ...COMPOSED])
    const stale = [...reasonsInDocs()].filter((reason) => !used.has(reason))
    expect(stale).toEqual([])
    expect(used.size).toBeGreaterThan(80)
  })
})
