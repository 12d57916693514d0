import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Walks docs/threat-model.md: every link to a test file must name a file that exists and whose
 * text contains the link's test name, so the threat model cannot silently rot.
 */
const root = fileURLToPath(new URL('../..', import.meta.url))
const page = join(root, 'docs/threat-model.md')
const text = readFileSync(page, 'utf8')
const links = [...text.matchAll(/\[([^\]]+)\]\(([^)\s]+\.test\.ts)\)/g)].map((match) => ({
  name: match[1] ?? '',
  file: resolve(dirname(page), match[2] ?? ''),
}))

/** Test titles in source may wrap or escape quotes differently; compare on a normal form. */
function normal(value: string): string {
  return value.replace(/\\(['"`])/g, '$1').replace(/\s+/g, ' ')
}

describe('docs/threat-model.md', () => {
  it('references tests', () => {
    expect(links.length).toBeGreaterThan(20)
  })

  it.each(links.map((link) => [link.name, link.file.slice(root.length)] as const))(
    '"%s" exists in %s',
    (name, file) => {
      const path = join(root, file)
      expect(existsSync(path), `${file} does not exist`).toBe(true)
      expect(normal(readFileSync(path, 'utf8'))).toContain(normal(name))
    },
  )
})
