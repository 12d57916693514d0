import { TLSSocket } from 'node:tls'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { ClientCertificateNotAllowed } from '../errors.js'

export interface ClientCertificateCheckOptions {
  /** Common names (CN) of the client certificates allowed to call, e.g. `['gatehouse-gateway']`. */
  readonly allowedCommonNames: readonly string[]
  /** Told about each refusal, with the peer's CN (`undefined` when it has none). */
  readonly onRefused: (request: FastifyRequest, commonName: string | undefined) => void
}

/**
 * The second half of mTLS. The TLS layer (`requestCert` + `rejectUnauthorized`) already refused
 * any connection without a certificate issued by the client CA; this hook also requires the
 * certificate's subject CN to be on the allow-list, because that CA may issue certificates to
 * other services too. Answers 403 problem+json otherwise, before the body is read.
 * The verdict is kept per TLS connection: the certificate cannot change within one.
 */
export function createClientCertificateCheck(
  options: ClientCertificateCheckOptions,
): onRequestAsyncHookHandler {
  const allowed = new Set(options.allowedCommonNames)
  const verdicts = new WeakMap<TLSSocket, string | undefined>()

  return async function checkClientCertificate(request) {
    const socket = request.raw.socket
    // Anything but an authorised TLS socket (e.g. an in-process inject) is refused too.
    if (!(socket instanceof TLSSocket) || !socket.authorized) {
      options.onRefused(request, undefined)
      throw new ClientCertificateNotAllowed({ detail: 'no verified client certificate' })
    }
    let commonName = verdicts.get(socket)
    if (!verdicts.has(socket)) {
      const subject = socket.getPeerCertificate().subject as { CN?: unknown } | undefined
      // A subject with several CNs comes as an array: refused, as is a missing one.
      commonName = typeof subject?.CN === 'string' ? subject.CN : undefined
      verdicts.set(socket, commonName)
    }
    if (commonName === undefined || !allowed.has(commonName)) {
      options.onRefused(request, commonName)
      throw new ClientCertificateNotAllowed({ detail: `client certificate CN ${commonName}` })
    }
  }
}
