import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/** docs/dependencies.md is the dependency review: it must list exactly the runtime dependencies in use. */
const root = fileURLToPath(new URL('../..', import.meta.url))

function workspaceManifests(): string[] {
  const manifests: string[] = []
  for (const parent of ['packages', 'examples']) {
    const dir = join(root, parent)
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      const manifest = join(dir, name, 'package.json')
      if (existsSync(manifest)) manifests.push(manifest)
    }
  }
  for (const single of ['bench/package.json', 'package.json']) {
    if (existsSync(join(root, single))) manifests.push(join(root, single))
  }
  return manifests
}

function runtimeDependencies(): Map<string, string[]> {
  const used = new Map<string, string[]>()
  for (const manifest of workspaceManifests()) {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name: string
      dependencies?: Record<string, string>
    }
    for (const name of Object.keys(parsed.dependencies ?? {})) {
      if (name.startsWith('@gatehouse/')) continue
      used.set(name, [...(used.get(name) ?? []), parsed.name])
    }
  }
  return used
}

function documented(): Set<string> {
  const page = readFileSync(join(root, 'docs/dependencies.md'), 'utf8')
  const table =
    /<!-- dependencies:start -->([\s\S]*?)<!-- dependencies:end -->/.exec(page)?.[1] ?? ''
  const names = new Set<string>()
  for (const line of table.split('\n')) {
    const cell = /^\|\s*`([^`]+)`\s*\|/.exec(line)?.[1]
    if (cell !== undefined) names.add(cell)
  }
  return names
}

describe('docs/dependencies.md', () => {
  it('lists every runtime dependency of every workspace, and nothing that is not one', () => {
    const used = runtimeDependencies()
    const listed = documented()
    const unlisted = [...used.keys()]
      .filter((name) => !listed.has(name))
      .map((name) => `${name} (used by ${used.get(name)?.join(', ')})`)
    expect(unlisted, 'runtime dependencies missing from docs/dependencies.md').toEqual([])
    expect(
      [...listed].filter((name) => !used.has(name)),
      'listed but not used',
    ).toEqual([])
  })
})
