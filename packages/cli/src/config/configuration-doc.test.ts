import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { auditConfiguration } from '../audit/run-audit.js'
import { renderConfigurationDoc } from './configuration-doc.js'
import { EXAMPLE_CONFIG } from './example-config.js'
import { parseGatehouseConfig } from './load.js'

/** The docs are linted by Biome (`npm run lint`), so the generated text is compared as Biome formats it. */
function formatMarkdown(text: string, path: string): string {
  const biome = fileURLToPath(new URL('../../../../node_modules/.bin/biome', import.meta.url))
  return execFileSync(biome, ['format', `--stdin-file-path=${path}`], {
    input: text,
    encoding: 'utf8',
  })
}

describe('docs/configuration.md', () => {
  it('is the reference generated from the root schema (regenerate: npx vitest run -u <this file>)', async () => {
    const doc = formatMarkdown(renderConfigurationDoc(), 'docs/configuration.md')
    for (const key of [
      'authorizationServer.keys.algorithm',
      'gateway.routes[].auth.method',
      'tokenHandler.allowedOrigins',
      'clients[].clientSecret',
      'store.path',
      'state.url',
    ]) {
      expect(doc).toContain(`\`${key}\``)
    }
    await expect(doc).toMatchFileSnapshot('../../../../docs/configuration.md')
  })

  it('opens with an example that validates and that the audit finds nothing in', () => {
    const loaded = parseGatehouseConfig('example.yaml', EXAMPLE_CONFIG)
    expect(loaded.settings.gateway?.routes).toHaveLength(1)
    expect(auditConfiguration(loaded)).toEqual([])
  })
})
