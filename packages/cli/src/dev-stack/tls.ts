import { join } from 'node:path'
import { loadOrCreateCertificateAuthority, loadOrIssueCertificate } from '@gatehouse/dev-ca'

/** The dev stack's TLS material: one local CA, a server certificate, and the gateway's mTLS client certificate. */
export interface DevTls {
  readonly caCertFile: string
  readonly ca: string
  readonly server: { readonly cert: string; readonly key: string }
  readonly gatewayClient: {
    readonly cert: string
    readonly key: string
    readonly certFile: string
    readonly keyFile: string
  }
}

export async function loadDevTls(tlsDir: string): Promise<DevTls> {
  const ca = await loadOrCreateCertificateAuthority(tlsDir)
  const server = await loadOrIssueCertificate(ca, tlsDir, 'localhost', {
    commonName: 'localhost',
    usage: 'server',
  })
  const gatewayClient = await loadOrIssueCertificate(ca, tlsDir, 'gateway-client', {
    commonName: 'gatehouse-gateway',
    usage: 'client',
  })
  return { caCertFile: join(tlsDir, 'ca.pem'), ca: ca.cert, server, gatewayClient }
}
