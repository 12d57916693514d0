import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { createServer, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createCertificateAuthority,
  loadOrCreateCertificateAuthority,
  loadOrIssueCertificate,
} from './index.js'

describe('local certificate authority', () => {
  const dirs: string[] = []
  afterAll(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))))

  it('issues a server certificate that node:https trusts with the CA, and a client certificate for mTLS', async () => {
    const ca = await createCertificateAuthority()
    const server = await ca.issue({ commonName: 'localhost', usage: 'server' })
    const client = await ca.issue({ commonName: 'gateway', usage: 'client' })
    const parsed = new X509Certificate(server.cert)
    expect(parsed.checkIssued(new X509Certificate(ca.cert))).toBe(true)
    expect(parsed.subjectAltName).toContain('DNS:localhost')
    expect(parsed.subjectAltName).toContain('IP Address:127.0.0.1')
    expect(new X509Certificate(ca.cert).ca).toBe(true)
    expect(parsed.ca).toBe(false)

    const https = createServer(
      {
        cert: server.cert,
        key: server.key,
        ca: ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate()
        res.end(peer.subject?.CN ?? 'none')
      },
    )
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
    const { port } = https.address() as import('node:net').AddressInfo
    try {
      const body = await new Promise<string>((resolve, reject) => {
        request(
          {
            host: '127.0.0.1',
            servername: 'localhost',
            port,
            ca: ca.cert,
            cert: client.cert,
            key: client.key,
          },
          (res) => {
            let text = ''
            res.on('data', (chunk) => (text += chunk))
            res.on('end', () => resolve(text))
          },
        )
          .on('error', reject)
          .end()
      })
      expect(body).toBe('gateway')
      // Without a client certificate the mTLS server refuses the connection.
      await expect(
        new Promise((resolve, reject) =>
          request({ host: '127.0.0.1', port, ca: ca.cert }, resolve).on('error', reject).end(),
        ),
      ).rejects.toThrow()
    } finally {
      https.close()
    }
  })

  it('keeps the CA and certificates on disk, private keys mode 0600, and reuses them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-ca-'))
    dirs.push(dir)
    const first = await loadOrCreateCertificateAuthority(dir)
    const second = await loadOrCreateCertificateAuthority(dir)
    expect(second.cert).toBe(first.cert)
    expect((await stat(join(dir, 'ca-key.pem'))).mode & 0o777).toBe(0o600)
    const leaf = await loadOrIssueCertificate(second, dir, 'server', {
      commonName: 'localhost',
      usage: 'server',
    })
    const again = await loadOrIssueCertificate(first, dir, 'server', {
      commonName: 'localhost',
      usage: 'server',
    })
    expect(again.cert).toBe(leaf.cert)
    expect(await readFile(leaf.keyFile, 'utf8')).toContain('BEGIN PRIVATE KEY')
  })

  it('reissues a certificate that another CA signed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-ca-'))
    dirs.push(dir)
    const other = await createCertificateAuthority()
    const mine = await loadOrCreateCertificateAuthority(dir)
    const foreign = await loadOrIssueCertificate(other, dir, 'server', {
      commonName: 'localhost',
      usage: 'server',
    })
    const reissued = await loadOrIssueCertificate(mine, dir, 'server', {
      commonName: 'localhost',
      usage: 'server',
    })
    expect(reissued.cert).not.toBe(foreign.cert)
    expect(new X509Certificate(reissued.cert).checkIssued(new X509Certificate(mine.cert))).toBe(
      true,
    )
  })
})
