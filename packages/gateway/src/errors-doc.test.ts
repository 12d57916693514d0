import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '../../..')
const source = (file: string) => readFileSync(join(import.meta.dirname, file), 'utf8')
const REASON =
  /'((?:path|request|route|block|rate|upstream|phantom|state|split|cors|jwt)\.[a-z_]+)'/g

/** Every reason code the gateway's own errors can carry, read from the code that raises them. */
function reasonsInCode(): Set<string> {
  const files = ['errors.ts', 'pipeline/normalise-path.ts']
  return new Set(
    files.flatMap((file) => [...source(file).matchAll(REASON)].map((match) => match[1] as string)),
  )
}

describe('docs/gateway.md', () => {
  it('documents every reason code the gateway raises, and no reason the code no longer has', () => {
    const doc = readFileSync(join(root, 'docs/gateway.md'), 'utf8')
    const table = doc.slice(
      doc.indexOf('## What each failure answers'),
      doc.indexOf('## What reaches the upstream'),
    )
    const documented = new Set(
      [
        ...table.matchAll(
          /`((?:path|request|route|block|rate|upstream|phantom|state|split|cors|jwt)\.[a-z_]+)`/g,
        ),
      ].map((match) => match[1] as string),
    )
    const inCode = reasonsInCode()
    expect(inCode.size).toBeGreaterThan(20)
    expect([...inCode].filter((reason) => !documented.has(reason)).sort()).toEqual([])
    expect([...documented].filter((reason) => !inCode.has(reason)).sort()).toEqual([])
  })
})
