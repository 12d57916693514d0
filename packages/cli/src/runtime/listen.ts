import { readFileSync } from 'node:fs'
import { RuntimeConfigError } from './errors.js'

/** `--host`, `--port`, `--tls-cert`, `--tls-key` of `gatehouse serve`. */
export interface ListenOptions {
  readonly host?: string
  readonly port?: number
  readonly tlsCert?: string
  readonly tlsKey?: string
}

/** Reads the PEM files named by `--tls-cert` / `--tls-key`; both are needed. */
export function readTlsFiles(options: ListenOptions): { cert: string; key: string } {
  if (options.tlsCert === undefined || options.tlsKey === undefined) {
    throw new RuntimeConfigError(
      '--tls-cert/--tls-key',
      'this component serves HTTPS only: give the certificate and key PEM files',
    )
  }
  return {
    cert: readPem(options.tlsCert, '--tls-cert'),
    key: readPem(options.tlsKey, '--tls-key'),
  }
}

function readPem(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new RuntimeConfigError(
      option,
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
}
