import { dirname, resolve as resolvePath } from 'node:path'
import type { SecretContext } from './secrets.js'

/** The CLI is the one place that reads the environment: components get it from here. */
export function secretContextFor(
  configFile: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): SecretContext {
  return { env, baseDir: dirname(resolvePath(configFile)) }
}
