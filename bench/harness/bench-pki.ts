import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCertificateAuthority } from '@gatehouse/dev-ca'

/** TLS material for the servers of one suite run, as PEM strings and as files for child processes. */
export interface BenchPki {
  /** A private temporary folder (mode 0700) the suite may also use for configs and data. */
  readonly dir: string
  readonly caCert: string
  readonly cert: string
  readonly key: string
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
  /** Certificate followed by its key: HAProxy's `crt` wants both in one file. */
  readonly certAndKeyFile: string
  /** Removes the folder and everything in it. */
  remove(): Promise<void>
}

/**
 * A throwaway dev CA and a server certificate for 127.0.0.1, so every server in a suite (Node,
 * HAProxy, nginx) terminates TLS with the same certificate. wrk does not verify certificates;
 * the Node clients of the suites trust the CA.
 */
export async function createBenchPki(): Promise<BenchPki> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'))
  const ca = await createCertificateAuthority('Gatehouse bench CA', 2)
  const server = await ca.issue({
    commonName: 'localhost',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    days: 2,
  })
  const file = (name: string) => join(dir, name)
  await Promise.all([
    writeFile(file('ca.pem'), ca.cert),
    writeFile(file('server.pem'), server.cert),
    writeFile(file('server-key.pem'), server.key, { mode: 0o600 }),
    writeFile(file('server-and-key.pem'), `${server.cert.trim()}\n${server.key.trim()}\n`, {
      mode: 0o600,
    }),
  ])
  return {
    dir,
    caCert: ca.cert,
    cert: server.cert,
    key: server.key,
    caFile: file('ca.pem'),
    certFile: file('server.pem'),
    keyFile: file('server-key.pem'),
    certAndKeyFile: file('server-and-key.pem'),
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}
