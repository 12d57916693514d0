import { createHash, type X509Certificate } from 'node:crypto'
import { connect } from 'node:tls'
import { type Browser, chromium } from 'playwright-core'

/** Debian's Chromium (`.ci/run` installs it); playwright-core ships no browser of its own. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/**
 * The base64 SHA-256 of the public key (SPKI) of the certificate a server presents, read over a
 * TLS connection that must verify against the dev CA first. Chromium cannot be handed a CA file,
 * but `--ignore-certificate-errors-spki-list` makes it trust exactly these keys, so the test
 * trusts only the certificates the dev CA issued instead of switching TLS checks off.
 */
export function verifiedSpkiHash(url: string, ca: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), servername: hostname, ca }, () => {
      const peer = socket.getPeerX509Certificate()
      socket.end()
      if (peer === undefined) {
        reject(new Error(`${url} presented no certificate`))
        return
      }
      resolve(spkiHash(peer))
    })
    socket.on('error', reject)
  })
}

function spkiHash(certificate: X509Certificate): string {
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(spki).digest('base64')
}

export async function launchChromium(trustedSpkiHashes: readonly string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${[...new Set(trustedSpkiHashes)].join(',')}`,
    ],
  })
}
