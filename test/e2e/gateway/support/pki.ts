import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
} from '@gatehouse/dev-ca'

export interface TestPki {
  readonly ca: CertificateAuthority
  /** Server certificate for 127.0.0.1 / localhost (gateway, upstream, issuer). */
  readonly server: IssuedCertificate
  /** The gateway's mTLS client certificate towards upstreams. */
  readonly gatewayClient: IssuedCertificate
}

/** A fresh dev CA and the certificates the gateway tests need. */
export async function createTestPki(): Promise<TestPki> {
  const ca = await createCertificateAuthority()
  const [server, gatewayClient] = await Promise.all([
    ca.issue({ commonName: 'localhost', usage: 'server' }),
    ca.issue({ commonName: 'gatehouse-gateway', usage: 'client' }),
  ])
  return { ca, server, gatewayClient }
}
