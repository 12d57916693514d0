import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { renderAuditDoc } from './audit-doc.js'
import { AUDIT_RULES } from './rules.js'

/** The docs are linted by Biome (`npm run lint`), so the generated text is compared as Biome formats it. */
function formatMarkdown(text: string, path: string): string {
  const biome = fileURLToPath(new URL('../../../../node_modules/.bin/biome', import.meta.url))
  return execFileSync(biome, ['format', `--stdin-file-path=${path}`], {
    input: text,
    encoding: 'utf8',
  })
}

const DOC = new URL('../../../../docs/audit.md', import.meta.url)

describe('docs/audit.md', () => {
  it('is generated from the rule registry (regenerate: npx vitest run -u <this file>)', async () => {
    await expect(formatMarkdown(renderAuditDoc(), 'docs/audit.md')).toMatchFileSnapshot(
      '../../../../docs/audit.md',
    )
  })

  it('documents every rule with its severity, and nothing that is not a rule', async () => {
    const doc = await readFile(DOC, 'utf8')
    const documented = [
      ...doc.matchAll(/^### (GH-[A-Z]+-\d{3})\n\n\*\*.+\*\* — severity: \*\*(\w+)\*\*$/gm),
    ]
    expect(documented.map((match) => [match[1], match[2]])).toEqual(
      AUDIT_RULES.map((rule) => [rule.id, rule.severity]),
    )
    const mentioned = new Set(doc.match(/GH-[A-Z]+-\d{3}/g))
    expect(mentioned).toEqual(new Set(AUDIT_RULES.map((rule) => rule.id)))
  })
})

describe('the rule registry', () => {
  it('has unique, well-formed ids and a rationale and fix for each rule', () => {
    const ids = AUDIT_RULES.map((rule) => rule.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const rule of AUDIT_RULES) {
      expect(rule.id).toMatch(/^GH-[A-Z]+-\d{3}$/)
      expect(rule.rationale.length).toBeGreaterThan(40)
      expect(rule.fix.length).toBeGreaterThan(20)
    }
  })
})
