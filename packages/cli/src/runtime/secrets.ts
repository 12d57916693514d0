import { readFileSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import { RuntimeConfigError } from './errors.js'

/** A `{ env }` or `{ file }` reference of the root configuration. */
export type SecretRef = { readonly env: string } | { readonly file: string }

/** Where references are looked up: the CLI passes `process.env` and the config file's folder. */
export interface SecretContext {
  readonly env: Readonly<Record<string, string | undefined>>
  /** Base of relative `{ file }` paths. */
  readonly baseDir: string
}

/** The referenced value, trimmed; a missing one is a `RuntimeConfigError` naming `keyPath`. */
export function resolveSecretRef(ref: SecretRef, keyPath: string, context: SecretContext): string {
  if ('env' in ref) {
    const value = context.env[ref.env]
    if (value === undefined || value.trim() === '') {
      throw new RuntimeConfigError(keyPath, `environment variable ${ref.env} is not set`)
    }
    return value.trim()
  }
  try {
    return readFileSync(resolvePath(context.baseDir, ref.file), 'utf8').trim()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new RuntimeConfigError(keyPath, `cannot read secret file ${ref.file} (${code})`)
  }
}
