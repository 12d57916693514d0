import { readFileSync } from 'node:fs'
import { dirname, resolve as resolvePath } from 'node:path'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { ConfigError } from '../errors.js'
import { type GatewayConfigParsed, GatewayConfigSchema, type PemRef } from './schema.js'

/** A validated, frozen gateway configuration whose secret references have been resolved. */
export interface GatewayConfig {
  readonly settings: GatewayConfigParsed
  /** The value of a `{ env }`, `{ file }` or `{ pem }` reference found in `settings`. */
  secret(ref: PemRef): string
}

export interface LoadOptions {
  /** Where `{ env: NAME }` references are looked up. The CLI passes `process.env`; libraries never read it. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Base for relative `{ file }` paths (default: the config file's folder, else the cwd). */
  readonly baseDir?: string
}

/**
 * Loads the gateway configuration from a YAML file path or an already-parsed object, validates it
 * (strict: unknown keys are errors, each naming its key path), resolves secret references and
 * freezes the result. Throws `ConfigError` listing every problem; never starts on a bad config.
 */
export function loadGatewayConfig(
  source: string | object,
  options: LoadOptions = {},
): GatewayConfig {
  let raw: unknown = source
  let baseDir = options.baseDir ?? process.cwd()
  if (typeof source === 'string') {
    baseDir = options.baseDir ?? dirname(resolvePath(source))
    raw = readYaml(source)
  }
  const shapeProblems = checkShape(raw)
  if (shapeProblems.length > 0) throw new ConfigError(shapeProblems)
  let result: ReturnType<typeof GatewayConfigSchema.safeParse>
  try {
    result = GatewayConfigSchema.safeParse(raw)
  } catch (error) {
    // The schema library should never throw on data; if it does, it is still a refusal.
    throw new ConfigError([
      `(root): the configuration cannot be read (${(error as Error).message})`,
    ])
  }
  if (!result.success) throw new ConfigError(result.error.issues.map(formatIssue))
  const settings = deepFreeze(result.data)
  const values = new WeakMap<object, string>()
  const problems: string[] = []
  for (const [path, ref] of secretRefs(settings)) {
    try {
      values.set(ref, readRef(ref, options.env ?? {}, baseDir))
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`)
    }
  }
  for (const [index, entry] of (settings.tokenHandler?.keys ?? []).entries()) {
    const value = values.get(entry.key)
    if (value === undefined) continue
    // AES-256-GCM: exactly 32 bytes, in base64 or base64url.
    const decoded = /^[A-Za-z0-9+/_-]+=*$/.test(value.trim())
      ? Buffer.from(value.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64')
      : Buffer.alloc(0)
    if (decoded.byteLength !== 32) {
      problems.push(
        `tokenHandler.keys[${index}].key: must be 32 bytes in base64 (got ${decoded.byteLength})`,
      )
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze({
    settings,
    secret(ref: PemRef): string {
      const value = values.get(ref)
      if (value === undefined)
        throw new TypeError('secret reference not part of this configuration')
      return value
    },
  })
}

function readYaml(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError([
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    ])
  }
  // uniqueKeys (the default) makes a duplicated key an error rather than a silent override.
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (document.errors.length > 0) {
    throw new ConfigError(document.errors.map((error) => `${path}: ${error.message}`))
  }
  try {
    // An unresolved alias or an alias bomb (billion laughs) throws here: a refusal, not a crash.
    return document.toJS({ maxAliasCount: 100 })
  } catch (error) {
    throw new ConfigError([`${path}: ${(error as Error).message}`])
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const MAX_DEPTH = 32

/** Refuses prototype-polluting keys and absurd nesting before the schema sees the document. */
function checkShape(raw: unknown): string[] {
  const problems: string[] = []
  const walk = (value: unknown, path: PropertyKey[]) => {
    if (typeof value !== 'object' || value === null) return
    if (path.length > MAX_DEPTH) {
      problems.push(`${formatPath(path)}: nested more than ${MAX_DEPTH} levels`)
      return
    }
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key === 'symbol') continue
      if (Array.isArray(value) && key === 'length') continue
      if (FORBIDDEN_KEYS.has(key)) {
        problems.push(`${formatPath([...path, key])}: key not allowed`)
        continue
      }
      const index = Array.isArray(value) ? Number(key) : key
      walk((value as Record<string, unknown>)[key], [...path, index])
    }
  }
  walk(raw, [])
  return problems
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out === '' ? String(key) : `.${String(key)}`
  }
  return out === '' ? '(root)' : out
}

function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`).join('; ')
  }
  return `${formatPath(issue.path)}: ${issue.message}`
}

function* secretRefs(settings: GatewayConfigParsed): Generator<[string, PemRef]> {
  yield ['listen.tls.cert', settings.listen.tls.cert]
  yield ['listen.tls.key', settings.listen.tls.key]
  for (const [name, upstream] of Object.entries(settings.upstreams)) {
    if (upstream.ca !== undefined) yield [`upstreams.${name}.ca`, upstream.ca]
    if (upstream.clientCertificate !== undefined) {
      yield [`upstreams.${name}.clientCertificate.cert`, upstream.clientCertificate.cert]
      yield [`upstreams.${name}.clientCertificate.key`, upstream.clientCertificate.key]
    }
  }
  for (const [index, entry] of (settings.tokenHandler?.keys ?? []).entries()) {
    yield [`tokenHandler.keys[${index}].key`, entry.key]
  }
  for (const [name, issuer] of Object.entries(settings.issuers)) {
    if (issuer.ca !== undefined) yield [`issuers.${name}.ca`, issuer.ca]
    if (issuer.introspection !== undefined) {
      yield [`issuers.${name}.introspection.clientSecret`, issuer.introspection.clientSecret]
    }
  }
}

function readRef(
  ref: PemRef,
  env: Readonly<Record<string, string | undefined>>,
  baseDir: string,
): string {
  if ('pem' in ref) return ref.pem
  if ('env' in ref) {
    const value = env[ref.env]
    if (value === undefined || value === '')
      throw new Error(`environment variable ${ref.env} is not set`)
    return value
  }
  try {
    return readFileSync(resolvePath(baseDir, ref.file), 'utf8')
  } catch (error) {
    throw new Error(
      `cannot read file ${ref.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    )
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}
