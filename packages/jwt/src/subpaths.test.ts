import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/** Every subpath export exists and is documented in the README, and nothing else is (as jose checks). */
const root = fileURLToPath(new URL('..', import.meta.url))
const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, { source: string; types: string; default: string }>
}
const readme = readFileSync(`${root}README.md`, 'utf8')

describe('@gatehouse/jwt subpath exports', () => {
  it.each(Object.entries(manifest.exports))(
    '%s points at a source file and is documented',
    (subpath, target) => {
      expect(existsSync(`${root}${target.source}`)).toBe(true)
      expect(target.default.replace('./dist/', './src/').replace(/\.js$/, '.ts')).toBe(
        target.source,
      )
      const name = subpath === '.' ? '@gatehouse/jwt`' : `@gatehouse/jwt${subpath.slice(1)}\``
      expect(readme).toContain(`\`${name}`)
    },
  )

  it('documents no subpath that does not exist', () => {
    const documented = [...readme.matchAll(/`@gatehouse\/jwt(\/[a-z-]+)?`/g)].map((match) =>
      match[1] === undefined ? '.' : `.${match[1]}`,
    )
    for (const subpath of documented) expect(Object.keys(manifest.exports)).toContain(subpath)
  })
})
