import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as errors from './errors.js'

/** Keeps docs/errors.md in step with the error classes, in both directions (as Fastify does). */
const doc = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8')
const section =
  /<!-- errors:@gatehouse\/jwt:start -->([\s\S]*?)<!-- errors:@gatehouse\/jwt:end -->/.exec(
    doc,
  )?.[1] ?? ''

function documentedRows(): Set<string> {
  const rows = new Set<string>()
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim().replace(/`/g, ''))
    if (cells.length < 6 || cells[1] === 'reason' || cells[1]?.startsWith('---')) continue
    rows.add(`${cells[1]} ${cells[2]} ${cells[3]} ${cells[4]}`)
  }
  return rows
}

function rowsFromCode(): Set<string> {
  const instances: errors.GatehouseError[] = []
  for (const [name, value] of Object.entries(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof errors.GatehouseError)) continue
    if (['InvalidToken', 'BearerError'].includes(name)) continue // abstract
    if (value === errors.InvalidBearerRequest) {
      for (const reason of errors.BEARER_REQUEST_REASONS)
        instances.push(new errors.InvalidBearerRequest(reason, 'x'))
      continue
    }
    const Concrete = value as unknown as new (argument?: unknown) => errors.GatehouseError
    const argument =
      value === errors.InsufficientScope ? ['s'] : value === errors.TokenTooLarge ? 1 : 'x'
    instances.push(new Concrete(argument))
  }
  return new Set(
    instances.map(
      (error) =>
        `${(error as unknown as { reason: string }).reason} ${error.name} ${error.code} ${error.status}`,
    ),
  )
}

describe('docs/errors.md', () => {
  it('documents exactly the errors @gatehouse/jwt raises, with their code and status', () => {
    const documented = documentedRows()
    const actual = rowsFromCode()
    expect(documented.size).toBeGreaterThan(20)
    expect([...actual].filter((row) => !documented.has(row))).toEqual([])
    expect([...documented].filter((row) => !actual.has(row))).toEqual([])
  })
})
