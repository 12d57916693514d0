import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { TokenHandlerConfigSchema } from './config/schema.js'
import { TOKEN_HANDLER_ERROR_CODES } from './errors.js'

const page = readFileSync(new URL('../../../docs/token-handler.md', import.meta.url), 'utf8')

function section(title: string): string {
  const start = page.indexOf(`## ${title}`)
  const end = page.indexOf('\n## ', start + 1)
  return page.slice(start, end === -1 ? undefined : end)
}

interface JsonSchema {
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
}

function configKeys(schema: JsonSchema, prefix = ''): string[] {
  const keys: string[] = []
  for (const variant of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) {
    keys.push(...configKeys(variant, prefix))
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`
    const isSecretReference = 'env' in (child.anyOf?.[0]?.properties ?? {})
    const nested = isSecretReference ? [] : configKeys(child, `${path}.`)
    keys.push(...(nested.length === 0 ? [path] : nested))
    if (child.items?.properties !== undefined) keys.push(...configKeys(child.items, `${path}[].`))
  }
  return [...new Set(keys)]
}

describe('docs/token-handler.md', () => {
  it('lists every error code, and no code that does not exist', () => {
    const documented = [...section('Errors').matchAll(/^\| `([a-z_]+)` +\|/gm)].map((m) => m[1])
    expect(documented.sort()).toEqual([...TOKEN_HANDLER_ERROR_CODES].sort())
  })

  it('documents every configuration key', () => {
    const schema = z.toJSONSchema(TokenHandlerConfigSchema, { io: 'input' }) as JsonSchema
    const reference = section('Configuration reference')
    const keys = configKeys(schema)
    expect(keys).toContain('client.authentication.privateKey')
    expect(keys).toContain('cookies.keys[].key')
    const missing = keys.filter((key) => !reference.includes(`\`${key}\``))
    expect(missing).toEqual([])
  })
})
