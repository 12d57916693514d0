import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import type { GatehouseConfig } from '../config/schema.js'
import { parseYamlSource, type YamlSource, YamlSyntaxError } from '../config/yaml-source.js'

/**
 * The parts of an OpenAPI 3 document the audit needs: servers, and the operations under `paths`.
 * Read with `yaml` (JSON is YAML) and a loose zod schema rather than a full OpenAPI validator:
 * the audit only lists operations, and must not refuse a document over unrelated details.
 */
const OpenApiShape = z.looseObject({
  openapi: z
    .string({ error: 'only OpenAPI 3.x documents are read (no "openapi" version)' })
    .regex(/^3\./, 'only OpenAPI 3.x documents are read'),
  servers: z.array(z.looseObject({ url: z.string().min(1) })).optional(),
  paths: z.record(z.string().regex(/^\//, 'paths start with "/"'), z.looseObject({})),
})

const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const

export interface OpenApiOperation {
  /** Upper case, as gateway routes write methods. */
  readonly method: string
  /** As written under `paths`, e.g. `/orders/{orderId}`. */
  readonly path: string
  /** The full path the upstream serves it on: the server's base path + `path`. */
  readonly upstreamPath: string
}

export interface OpenApiDocument {
  readonly source: YamlSource
  /** The gateway upstream (by name) that serves this API. */
  readonly upstream: string
  readonly operations: readonly OpenApiOperation[]
}

/** An OpenAPI argument that cannot be read, parsed or tied to an upstream (exit code 2). */
export class OpenApiDocumentError extends Error {
  override name = 'OpenApiDocumentError'
}

/**
 * Loads `file` or `upstream=file`. Without an upstream name, the document is tied to the gateway
 * upstream whose URL has the origin of one of the document's `servers` (and a base path the
 * server's path starts with); the server's path is the base of every operation path.
 */
export async function loadOpenApiDocument(
  argument: string,
  config: GatehouseConfig,
): Promise<OpenApiDocument> {
  const named = /^([a-z0-9][a-z0-9_.-]{0,62})=(.+)$/.exec(argument)
  const file = named?.[2] ?? argument
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new OpenApiDocumentError(
      `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
  let source: YamlSource
  try {
    source = parseYamlSource(file, text)
  } catch (error) {
    if (error instanceof YamlSyntaxError) throw new OpenApiDocumentError(error.message)
    throw error
  }
  const parsed = OpenApiShape.safeParse(source.value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.map(String).join('.') || '(root)'
    throw new OpenApiDocumentError(
      `${file}: ${where}: ${issue?.message ?? 'not an OpenAPI document'}`,
    )
  }
  const upstreams = config.gateway?.upstreams
  if (upstreams === undefined) {
    throw new OpenApiDocumentError(`${file}: the configuration has no gateway to route it`)
  }
  const servers = (parsed.data.servers ?? []).map((server) => server.url)
  const binding =
    named?.[1] === undefined
      ? bindByServer(servers, upstreams)
      : bindByName(named[1], servers, upstreams)
  if (typeof binding === 'string') throw new OpenApiDocumentError(`${file}: ${binding}`)
  const operations: OpenApiOperation[] = []
  for (const [path, item] of Object.entries(parsed.data.paths)) {
    for (const method of OPERATION_METHODS) {
      if (item[method] === undefined) continue
      operations.push({
        method: method.toUpperCase(),
        path,
        upstreamPath: join(binding.basePath, path),
      })
    }
  }
  return { source, upstream: binding.upstream, operations }
}

type Upstreams = Readonly<Record<string, { readonly url: string }>>
type Binding = { readonly upstream: string; readonly basePath: string } | string

function bindByName(name: string, servers: readonly string[], upstreams: Upstreams): Binding {
  const upstream = upstreams[name]
  if (upstream === undefined) return `no upstream named "${name}" in gateway.upstreams`
  const first = servers[0]
  // A relative server URL is relative to where the API is served: the upstream's URL.
  const base = first === undefined ? new URL(upstream.url) : new URL(first, upstream.url)
  return { upstream: name, basePath: base.pathname }
}

function bindByServer(servers: readonly string[], upstreams: Upstreams): Binding {
  for (const server of servers) {
    if (!URL.canParse(server)) continue
    const serverUrl = new URL(server)
    const candidates = Object.entries(upstreams)
      .map(([name, upstream]) => ({ name, url: new URL(upstream.url) }))
      .filter(({ url }) => url.origin === serverUrl.origin)
      .filter(({ url }) => startsWithPath(serverUrl.pathname, url.pathname))
      .sort((a, b) => b.url.pathname.length - a.url.pathname.length)
    const best = candidates[0]
    if (best !== undefined) return { upstream: best.name, basePath: serverUrl.pathname }
  }
  return `no gateway upstream serves ${servers.length === 0 ? 'it (no servers)' : servers.join(', ')}; name one with --openapi <upstream>=<file>`
}

function startsWithPath(path: string, prefix: string): boolean {
  const bare = prefix.replace(/\/$/, '')
  return bare === '' || path === bare || path.startsWith(`${bare}/`)
}

function join(basePath: string, path: string): string {
  return `${basePath.replace(/\/$/, '')}${path}`
}
