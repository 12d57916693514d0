import 'reflect-metadata' // @peculiar/x509 needs the Reflect metadata API (it uses tsyringe)
import { randomBytes, webcrypto } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'

/**
 * A local certificate authority for the dev stack and the tests: ECDSA P-256 everywhere, short
 * validity, the CA limited to path length 0. Certificates are made with @peculiar/x509 (on
 * WebCrypto) rather than by shelling out to openssl, so `npm start` needs nothing but Node.
 * Not for production: a production deployment brings certificates from its own PKI.
 */

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const
x509.cryptoProvider.set(webcrypto)

export type CertificateUsage = 'server' | 'client' | 'server-and-client'

export interface IssueOptions {
  readonly commonName: string
  /** DNS names for the subjectAltName (servers). Default: ["localhost"] for server certificates. */
  readonly dnsNames?: readonly string[]
  /** IP addresses for the subjectAltName. Default: ["127.0.0.1", "::1"] for server certificates. */
  readonly ipAddresses?: readonly string[]
  readonly usage: CertificateUsage
  /** Validity in days. Default 90. */
  readonly days?: number
}

export interface IssuedCertificate {
  /** PEM certificate. */
  readonly cert: string
  /** PEM PKCS#8 private key. */
  readonly key: string
}

export interface CertificateAuthority extends IssuedCertificate {
  issue(options: IssueOptions): Promise<IssuedCertificate>
}

const DAY_MS = 24 * 60 * 60 * 1000

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  const body = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`
}

async function importKeyPem(pem: string): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  return await webcrypto.subtle.importKey('pkcs8', der, EC, true, ['sign'])
}

function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] ?? 0) & 0x7f // positive
  return bytes.toString('hex')
}

function fromPems(cert: string, key: webcrypto.CryptoKey, keyPem: string): CertificateAuthority {
  const caCert = new x509.X509Certificate(cert)
  return {
    cert,
    key: keyPem,
    async issue(options) {
      const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])
      const server = options.usage !== 'client'
      const client = options.usage !== 'server'
      const dnsNames = options.dnsNames ?? (server ? ['localhost'] : [])
      const ipAddresses = options.ipAddresses ?? (server ? ['127.0.0.1', '::1'] : [])
      const usages: string[] = []
      if (server) usages.push(x509.ExtendedKeyUsage.serverAuth)
      if (client) usages.push(x509.ExtendedKeyUsage.clientAuth)
      const names: x509.JsonGeneralName[] = [
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]
      const now = Date.now()
      const issued = await x509.X509CertificateGenerator.create({
        serialNumber: serialNumber(),
        subject: `CN=${escapeDn(options.commonName)}`,
        issuer: caCert.subject,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + (options.days ?? 90) * DAY_MS),
        signingAlgorithm: SIGNING,
        publicKey: keys.publicKey,
        signingKey: key,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension(usages, false),
          ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
          await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
        ],
      })
      return { cert: issued.toString('pem'), key: await exportKeyPem(keys.privateKey) }
    },
  }
}

/** Makes a new CA (in memory). */
export async function createCertificateAuthority(
  commonName = 'Gatehouse local development CA',
  days = 365,
): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])
  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${escapeDn(commonName)}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  const keyPem = await exportKeyPem(keys.privateKey)
  return fromPems(cert.toString('pem'), keys.privateKey, keyPem)
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function expiresWithin(certPem: string, ms: number): boolean {
  return new x509.X509Certificate(certPem).notAfter.getTime() - Date.now() < ms
}

/** Loads `dir/ca.pem` + `dir/ca-key.pem`, or makes and writes them (key mode 0600). */
export async function loadOrCreateCertificateAuthority(dir: string): Promise<CertificateAuthority> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const certPath = join(dir, 'ca.pem')
  const keyPath = join(dir, 'ca-key.pem')
  const [cert, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)])
  if (cert !== undefined && keyPem !== undefined && !expiresWithin(cert, 7 * DAY_MS)) {
    return fromPems(cert, await importKeyPem(keyPem), keyPem)
  }
  const ca = await createCertificateAuthority()
  await writeFile(keyPath, ca.key, { mode: 0o600 })
  await writeFile(certPath, ca.cert)
  return ca
}

/** Loads `dir/<name>.pem` + `dir/<name>-key.pem` when still valid for a week and issued by `ca`, or issues them. */
export async function loadOrIssueCertificate(
  ca: CertificateAuthority,
  dir: string,
  name: string,
  options: IssueOptions,
): Promise<IssuedCertificate & { certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.pem`)
  const keyFile = join(dir, `${name}-key.pem`)
  const [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)])
  if (cert !== undefined && key !== undefined && !expiresWithin(cert, 7 * DAY_MS)) {
    const caCert = new x509.X509Certificate(ca.cert)
    if (
      await new x509.X509Certificate(cert).verify({
        publicKey: caCert.publicKey,
        signatureOnly: true,
      })
    ) {
      return { cert, key, certFile, keyFile }
    }
  }
  const issued = await ca.issue(options)
  await writeFile(keyFile, issued.key, { mode: 0o600 })
  await writeFile(certFile, issued.cert)
  return { ...issued, certFile, keyFile }
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1')
}
