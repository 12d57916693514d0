import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'

/** One built file, held in memory with what its response needs. */
export interface StaticAsset {
  readonly body: Buffer
  readonly contentType: string
  readonly etag: string
}

/** The file types the SPA is built into; anything else under the build folder is never served. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
}

/**
 * Reads the built SPA into memory once: a map from URL path (`/app.js`) to the file. Serving from
 * this map means a request never reaches the file system, so no path a client sends can name a
 * file outside the build (path traversal) or one that appeared later. Only regular files with a
 * known type are taken; dotfiles and symbolic links are skipped.
 */
export async function loadStaticAssets(rootDir: string): Promise<Map<string, StaticAsset>> {
  const assets = new Map<string, StaticAsset>()
  async function walk(dir: string, urlPrefix: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        await walk(path, `${urlPrefix}${entry.name}/`)
        continue
      }
      const contentType = CONTENT_TYPES[extname(entry.name).toLowerCase()]
      if (!entry.isFile() || contentType === undefined) continue
      const body = await readFile(path)
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
      assets.set(`${urlPrefix}${entry.name}`, { body, contentType, etag })
    }
  }
  await walk(rootDir, '/')
  return assets
}
