import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildSpaAssets } from './build-assets.js'
import { loadStaticAssets } from './static-assets.js'

let outDir: string

beforeAll(async () => {
  outDir = await buildSpaAssets({ outDir: await mkdtemp(join(tmpdir(), 'gatehouse-spa-build-')) })
})

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true })
})

describe('buildSpaAssets', () => {
  it('writes the page, one script, one stylesheet and the icon, all served by the handler', async () => {
    expect((await readdir(outDir)).sort()).toEqual([
      'favicon.svg',
      'index.html',
      'main.js',
      'styles.css',
    ])
    const served = await loadStaticAssets(outDir)
    expect([...served.keys()].sort()).toEqual([
      '/favicon.svg',
      '/index.html',
      '/main.js',
      '/styles.css',
    ])
  })

  it('builds a page that runs under the strict CSP: no inline script, style or handler', async () => {
    const html = await readFile(join(outDir, 'index.html'), 'utf8')
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts).toHaveLength(1)
    expect(scripts[0]?.[1]).toContain('src="/main.js"')
    expect(scripts[0]?.[2]).toBe('')
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i)
  })

  it('bundles a script that builds no HTML from strings and evaluates no code (Trusted Types)', async () => {
    const script = await readFile(join(outDir, 'main.js'), 'utf8')
    expect(script).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
    )
    expect(script).not.toMatch(/localStorage|sessionStorage|indexedDB|document\.cookie/)
  })
})
