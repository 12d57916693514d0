import type { RequestListener } from 'node:http'
import type { Logger } from 'pino'

/**
 * A baseline proxy plus what issue #4 requires of every gateway request and no minimal proxy
 * does: one structured access-log line through pino, written when the answer is finished. The
 * line is pino's plain `logger.info(fields, 'request')` with the fields a proxy knows (method,
 * path, status, client address, duration), on the destination the gateway uses
 * (`createLogDestination`: whole lines, a few KiB per write). Against the bare proxy it measures
 * what the logging requirement alone costs the floor. (`request.url` is logged whole: the suite's
 * request has no query string, which the gateway would leave out.)
 */
export function withAccessLog(listener: RequestListener, logger: Logger): RequestListener {
  return function forwardAndLog(request, response) {
    const started = performance.now()
    response.once('finish', function logRequest() {
      logger.info(
        {
          method: request.method,
          path: request.url,
          status: response.statusCode,
          clientIp: request.socket.remoteAddress,
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        },
        'request',
      )
    })
    listener(request, response)
  }
}
