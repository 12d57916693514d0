import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { parseRuntimeConfig, type SpaRuntimeConfigInput } from './runtime-config.js'
import { securityHeaders } from './security-headers.js'
import { loadStaticAssets, type StaticAsset } from './static-assets.js'

export interface SpaHandlerOptions {
  /** The built SPA (`npm run build`). Default: this package's `dist/public`. */
  readonly distDir?: string
  /** Served as `/config.json`; checked here, so a bad value fails at start-up. */
  readonly config: SpaRuntimeConfigInput
}

export type SpaRequestListener = (req: IncomingMessage, res: ServerResponse) => void

/** `dist/public` of this package, from `src/` (tests, `source` condition) and `dist/` alike. */
export const DEFAULT_DIST_DIR = fileURLToPath(new URL('../dist/public/', import.meta.url))

/**
 * The SPA's web server as a node:http request listener: the built files, `/config.json`, and
 * `index.html` for any other GET path without a file extension (the SPA's own routes, such as
 * the OAuth redirect URI `/callback`). Every response carries the security headers. The built
 * files are read into memory on the first request (and again while the build is missing).
 */
export function createSpaHandler(options: SpaHandlerOptions): SpaRequestListener {
  const config = parseRuntimeConfig(options.config)
  const headers = securityHeaders(config)
  const configJson = Buffer.from(JSON.stringify(config))
  const configAsset: StaticAsset = {
    body: configJson,
    contentType: 'application/json',
    etag: `"${createHash('sha256').update(configJson).digest('base64url').slice(0, 27)}"`,
  }
  const distDir = options.distDir ?? DEFAULT_DIST_DIR
  let loading: Promise<Map<string, StaticAsset> | undefined> | undefined

  function assets(): Promise<Map<string, StaticAsset> | undefined> {
    loading ??= loadStaticAssets(distDir).then(
      (loaded) => {
        if (!loaded.has('/index.html')) {
          loading = undefined
          return undefined
        }
        return loaded
      },
      () => {
        loading = undefined
        return undefined
      },
    )
    return loading
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return problem(res, headers, 405, 'Method Not Allowed', 'only GET and HEAD', {
        allow: 'GET, HEAD',
      })
    }
    const path = requestPath(req.url)
    if (path === null) {
      return problem(res, headers, 400, 'Bad Request', 'the request path is not allowed')
    }
    if (path === '/config.json') return send(req, res, headers, configAsset, 'no-store')
    const files = await assets()
    if (files === undefined) {
      return problem(
        res,
        headers,
        503,
        'Service Unavailable',
        'the example SPA is not built yet: run `npm run build`',
      )
    }
    const file = files.get(path === '/' ? '/index.html' : path)
    if (file !== undefined) return send(req, res, headers, file, 'no-cache')
    const lastSegment = path.slice(path.lastIndexOf('/') + 1)
    if (lastSegment.includes('.')) {
      return problem(res, headers, 404, 'Not Found', 'no such file')
    }
    const index = files.get('/index.html')
    if (index === undefined) return problem(res, headers, 404, 'Not Found', 'no such file')
    return send(req, res, headers, index, 'no-cache')
  }

  return function spaRequestListener(req, res) {
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        problem(res, headers, 500, 'Internal Server Error', 'the request could not be served')
      } else {
        res.destroy()
      }
    })
  }
}

/**
 * The decoded path of an origin-form request target, or null when it must be refused: not
 * starting with `/`, a bad percent escape, NUL or another control character, a backslash, or a
 * `.`/`..` segment (also when percent-encoded). The assets are served from memory, so this is a
 * second line; it keeps odd paths from ever reaching the SPA fallback.
 */
export function requestPath(target: string | undefined): string | null {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return null
  const raw = target.split(/[?#]/, 1)[0] ?? ''
  let path: string
  try {
    path = decodeURIComponent(raw)
  } catch {
    return null
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return null
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return null
  return path
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  headers: Readonly<Record<string, string>>,
  asset: StaticAsset,
  cacheControl: string,
): void {
  const common = { ...headers, etag: asset.etag, 'cache-control': cacheControl }
  if (cacheControl !== 'no-store' && req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, common).end()
    return
  }
  res.writeHead(200, {
    ...common,
    'content-type': asset.contentType,
    'content-length': String(asset.body.length),
  })
  res.end(req.method === 'HEAD' ? undefined : asset.body)
}

/** RFC 9457 problem details; the detail is a fixed sentence, never request data. */
function problem(
  res: ServerResponse,
  headers: Readonly<Record<string, string>>,
  status: number,
  title: string,
  detail: string,
  extra: Readonly<Record<string, string>> = {},
): void {
  const body = JSON.stringify({ type: 'about:blank', title, status, detail })
  res.writeHead(status, {
    ...headers,
    ...extra,
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(body)),
  })
  res.end(body)
}
