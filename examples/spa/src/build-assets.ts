import { copyFile, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { DEFAULT_DIST_DIR } from './create-spa-handler.js'

/** The SPA's sources: `index.html`, `styles.css` and `main.ts` with what it imports. */
export const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url))

const COPIED_AS_IS = ['index.html', 'favicon.svg'] as const

export interface BuildSpaAssetsOptions {
  /** Default: `dist/public`, where `createSpaHandler` looks. */
  readonly outDir?: string
}

/**
 * Bundles the SPA with esbuild into `outDir`: `main.js` (one ES module, minified, no inline
 * code, so the page runs under `script-src 'self'`), `styles.css`, `index.html` and the icon. Type
 * checking is tsc's job (`web/tsconfig.json` is part of `tsc -b`); esbuild only bundles.
 * The files are built next to `outDir` and renamed into it one by one, so a server reading the
 * folder meanwhile (a test running beside the build) never sees half a file.
 */
export async function buildSpaAssets(options: BuildSpaAssetsOptions = {}): Promise<string> {
  const outDir = options.outDir ?? DEFAULT_DIST_DIR
  await mkdir(outDir, { recursive: true })
  const staging = await mkdtemp(join(dirname(outDir), '.spa-build-'))
  try {
    await bundle(staging)
    for (const file of COPIED_AS_IS) await copyFile(join(WEB_DIR, file), join(staging, file))
    for (const file of await readdir(staging)) {
      await rename(join(staging, file), join(outDir, file))
    }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return outDir
}

async function bundle(outdir: string): Promise<void> {
  await build({
    entryPoints: [join(WEB_DIR, 'main.ts'), join(WEB_DIR, 'styles.css')],
    outdir,
    entryNames: '[name]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120', 'firefox121', 'safari17'],
    tsconfig: join(WEB_DIR, 'tsconfig.json'),
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  })
}
