import { z } from 'zod'
import { EXAMPLE_CONFIG } from './example-config.js'
import { GatehouseConfigSchema } from './schema.js'

/**
 * Renders `docs/configuration.md` from the JSON Schema of the root configuration
 * (`z.toJSONSchema`), so the reference cannot drift from the schema: `configuration-doc.test.ts`
 * fails when the file is stale. Regenerate with
 * `npx vitest run -u packages/cli/src/config/configuration-doc.test.ts`.
 */

interface JsonSchema {
  readonly type?: string | readonly string[]
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: readonly string[]
  readonly additionalProperties?: boolean | JsonSchema
  readonly items?: JsonSchema
  readonly oneOf?: readonly JsonSchema[]
  readonly anyOf?: readonly JsonSchema[]
  readonly enum?: readonly unknown[]
  readonly const?: unknown
  readonly default?: unknown
  readonly format?: string
  readonly minimum?: number
  readonly maximum?: number
  readonly minItems?: number
  readonly minLength?: number
  readonly description?: string
}

interface Row {
  readonly key: string
  readonly type: string
  readonly required: boolean
  readonly defaultValue: string
  readonly notes: string
}

const SECTIONS: readonly { readonly key: string; readonly intro: string }[] = [
  { key: 'authorizationServer', intro: 'The authorization server (docs/authorization-server.md).' },
  { key: 'gateway', intro: 'The API gateway (docs/gateway.md).' },
  { key: 'tokenHandler', intro: 'The token handler (backend for frontend) for single-page apps.' },
  {
    key: 'clients',
    intro:
      'Clients registered at the authorization server on start. `clientSecret` is a `{ env }` or `{ file }` reference; a literal string is accepted but reported by `gatehouse audit` (GH-SECRET-001).',
  },
  { key: 'store', intro: 'Where the authorization server keeps clients, users, keys and tokens.' },
  { key: 'state', intro: 'Shared state of gateways: rate-limit counters, caches, revocations.' },
]

export function renderConfigurationDoc(): string {
  const schema = z.toJSONSchema(GatehouseConfigSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema
  const out: string[] = [
    '# Gatehouse configuration reference',
    '',
    '<!-- Generated from the zod schema by packages/cli/src/config/configuration-doc.ts. Do not edit:',
    '     npx vitest run -u packages/cli/src/config/configuration-doc.test.ts -->',
    '',
    'One YAML file configures every component (`loadGatehouseConfig(path)` in `@gatehouse/cli`).',
    'Every object is closed: an unknown key is an error naming its key path (with line and column).',
    'Secrets are never values: they are references, `{ env: NAME }` or `{ file: path }`, resolved',
    'at start. Keys below are written as paths: `a.b` is a nested key, `a[]` an item of a list,',
    '`a.<name>` an entry of a map whose keys you choose. "when" names the variant a key belongs to.',
    '`gatehouse audit <file>` checks a configuration against the practices (docs/audit.md).',
    '',
    '## Example',
    '',
    'An authorization server, one API behind the gateway (opaque tokens outside, JWTs inside,',
    'mTLS to the API) and a declared client; `gatehouse audit` finds nothing in it.',
    '',
    '```yaml',
    EXAMPLE_CONFIG.trimEnd(),
    '```',
    '',
  ]
  const properties = schema.properties ?? {}
  const required = new Set(schema.required ?? [])
  for (const section of SECTIONS) {
    const child = properties[section.key]
    if (child === undefined) throw new TypeError(`the root schema has no ${section.key}`)
    const rows: Row[] = []
    walk(child, section.key, required.has(section.key), '', rows)
    out.push(`## \`${section.key}\``, '', section.intro, '')
    out.push('| key | type | required | default | notes |', '| --- | --- | --- | --- | --- |')
    for (const row of rows) {
      out.push(
        `| \`${row.key}\` | ${cell(row.type)} | ${row.required ? 'yes' : 'no'} | ${cell(row.defaultValue)} | ${cell(row.notes)} |`,
      )
    }
    out.push('')
  }
  const unknown = Object.keys(properties).filter((key) => !SECTIONS.some((s) => s.key === key))
  if (unknown.length > 0) throw new TypeError(`undocumented root keys: ${unknown.join(', ')}`)
  return out.join('\n')
}

function walk(schema: JsonSchema, key: string, required: boolean, when: string, rows: Row[]) {
  const variants = schema.oneOf ?? schema.anyOf
  const push = (type: string, notes: string[] = []) =>
    rows.push({
      key,
      type,
      required,
      defaultValue: schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``,
      notes: [when === '' ? '' : `when ${when}`, ...notes].filter((n) => n !== '').join('; '),
    })
  if (variants !== undefined) {
    if (variants.every(isReference)) return push(variants.map(describeReference).join(' or '))
    const discriminator = discriminatorOf(variants)
    if (discriminator === undefined) {
      return push(variants.map((variant) => typeOf(variant)).join(' or '))
    }
    rows.push({
      key: `${key}.${discriminator}`,
      type: variants.map((v) => `\`${String(constOf(v, discriminator))}\``).join(', '),
      required: true,
      defaultValue: '',
      notes: [when === '' ? '' : `when ${when}`, `chooses the variant of \`${key}\``]
        .filter((n) => n !== '')
        .join('; '),
    })
    for (const variant of variants) {
      const label = `${discriminator}: ${String(constOf(variant, discriminator))}`
      walkProperties(variant, key, label, rows, discriminator)
    }
    return
  }
  if (schema.properties !== undefined) {
    push('object')
    return walkProperties(schema, key, when, rows)
  }
  if (typeof schema.additionalProperties === 'object') {
    push('map', ['keys you choose'])
    return walk(schema.additionalProperties, `${key}.<name>`, true, when, rows)
  }
  if (schema.items !== undefined) {
    const item = schema.items
    const itemVariants = item.anyOf ?? item.oneOf
    const nested =
      item.properties !== undefined ||
      (itemVariants !== undefined && !itemVariants.every(isReference))
    const notes = schema.minItems === undefined ? [] : [`at least ${schema.minItems}`]
    if (!nested) {
      return push(`list of ${typeOf(item)}`, [...notes, ...constraints(item)])
    }
    push('list', notes)
    return walk(item, `${key}[]`, true, when, rows)
  }
  push(typeOf(schema), constraints(schema))
}

function walkProperties(
  schema: JsonSchema,
  key: string,
  when: string,
  rows: Row[],
  skip?: string,
): void {
  const required = new Set(schema.required ?? [])
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (name === skip) continue
    walk(child, `${key}.${name}`, required.has(name), when, rows)
  }
}

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``
  if (schema.enum !== undefined)
    return schema.enum.map((value) => `\`${String(value)}\``).join(', ')
  if (schema.anyOf !== undefined || schema.oneOf !== undefined) {
    const variants = schema.anyOf ?? schema.oneOf ?? []
    return variants.map((v) => (isReference(v) ? describeReference(v) : typeOf(v))).join(' or ')
  }
  if (schema.format !== undefined) return `${String(schema.type ?? 'string')} (${schema.format})`
  if (schema.type === undefined) return 'any'
  return Array.isArray(schema.type) ? schema.type.join(' or ') : String(schema.type)
}

function constraints(schema: JsonSchema): string[] {
  const notes: string[] = []
  // z.int() bounds itself to the safe integers: not worth a note.
  if (schema.minimum !== undefined && schema.minimum > Number.MIN_SAFE_INTEGER) {
    notes.push(`min ${schema.minimum}`)
  }
  if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) {
    notes.push(`max ${schema.maximum}`)
  }
  if (schema.minLength !== undefined && schema.minLength > 1) {
    notes.push(`at least ${schema.minLength} characters`)
  }
  return notes
}

/** `{ env }`, `{ file }`, `{ pem }`: one-key objects, the shape of secret references. */
function isReference(schema: JsonSchema): boolean {
  const keys = Object.keys(schema.properties ?? {})
  return (keys.length === 1 && schema.required?.length === 1) || schema.type === 'string'
}

function describeReference(schema: JsonSchema): string {
  const key = Object.keys(schema.properties ?? {})[0]
  return key === undefined ? typeOf(schema) : `{ ${key} }`
}

function discriminatorOf(variants: readonly JsonSchema[]): string | undefined {
  const first = variants[0]
  if (first?.properties === undefined) return undefined
  return Object.keys(first.properties).find((name) =>
    variants.every((variant) => constOf(variant, name) !== undefined),
  )
}

function constOf(schema: JsonSchema, name: string): unknown {
  return schema.properties?.[name]?.const
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}
