import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadGatewayConfig } from './config/load.js'

const doc = readFileSync(join(import.meta.dirname, '../../../docs/gateway.md'), 'utf8')

describe('docs/gateway.md', () => {
  it('shows an example configuration that loads, using every section of the schema', () => {
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(example).toBeDefined()
    const dir = mkdtempSync(join(tmpdir(), 'gateway-doc-'))
    mkdirSync(join(dir, 'tls'))
    for (const file of ['gateway.pem', 'ca.pem', 'gateway-client.pem'])
      writeFileSync(join(dir, 'tls', file), 'PEM')
    writeFileSync(join(dir, 'gateway.yaml'), example ?? '')
    const env = Object.fromEntries(
      [...(example ?? '').matchAll(/env: ([A-Z0-9_]+)/g)].map((match) => [
        match[1] as string,
        Buffer.alloc(32, 7).toString('base64'),
      ]),
    )
    const config = loadGatewayConfig(join(dir, 'gateway.yaml'), { env })
    const topLevel = Object.keys(config.settings)
    for (const section of [
      'listen',
      'admin',
      'paths',
      'trustedProxies',
      'issuers',
      'upstreams',
      'routes',
      'rateLimits',
      'blockList',
      'tokenHandler',
      'phantomCache',
      'abuse',
    ]) {
      expect(topLevel).toContain(section)
    }
  })
})
