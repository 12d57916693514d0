import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIT_RULES } from '../../../packages/cli/src/audit/rules.js'
import { audit, auditJson, CLEAN_CONFIG, cleanConfigWith, createWorkspace } from './support.js'

let workspace: Awaited<ReturnType<typeof createWorkspace>>
beforeAll(async () => {
  workspace = await createWorkspace()
})
afterAll(() => workspace.remove())

const WRITTEN_SECRET = 'gcs_WrittenDownSecretValue0123456789abcdef'

/** Three findings: critical (secret in the file), medium (metrics), low (no PAR). */
async function mixedConfig(): Promise<string> {
  return workspace.write(
    'mixed.yaml',
    await cleanConfigWith((doc) => {
      doc.setIn(['clients', 0, 'clientSecret'], WRITTEN_SECRET)
      doc.setIn(['gateway', 'admin', 'host'], '0.0.0.0')
      doc.setIn(['tokenHandler', 'pushedAuthorizationRequests'], { enabled: false })
    }),
  )
}

describe('gatehouse audit: results and exit codes', () => {
  it('finds nothing in the clean configuration and exits 0', async () => {
    const run = await audit([CLEAN_CONFIG, '--fail-on', 'low'])
    expect(run).toEqual({ code: 0, stdout: 'gatehouse audit: no findings\n', stderr: '' })
    const json = await auditJson([CLEAN_CONFIG])
    expect(json.findings).toEqual([])
    expect(json.summary).toEqual({ low: 0, medium: 0, high: 0, critical: 0 })
  })

  it.each([
    ['critical', 1],
    ['high', 1],
    ['medium', 1],
    ['low', 1],
  ])('exits 1 when a finding is at or above --fail-on %s', async (failOn, code) => {
    expect((await audit([await mixedConfig(), '--fail-on', failOn])).code).toBe(code)
  })

  it('exits 0 when every finding is below --fail-on (default high)', async () => {
    const file = await workspace.write(
      'low-only.yaml',
      await cleanConfigWith((doc) =>
        doc.setIn(['tokenHandler', 'pushedAuthorizationRequests'], { enabled: false }),
      ),
    )
    expect((await audit([file])).code).toBe(0)
    expect((await audit([file, '--fail-on', 'medium'])).code).toBe(0)
    expect((await audit([file, '--fail-on', 'low'])).code).toBe(1)
  })

  it('prints a table, most severe first, with file:line:column and key path', async () => {
    const file = await mixedConfig()
    const run = await audit([file])
    const lines = run.stdout.split('\n')
    expect(lines[0]).toMatch(
      /^CRITICAL GH-SECRET-001 +\S+mixed\.yaml:\d+:\d+ clients\[0\]\.clientSecret$/,
    )
    expect(run.stdout.indexOf('GH-NET-002')).toBeLessThan(run.stdout.indexOf('GH-PAR-001'))
    expect(run.stdout).toContain('fix: ')
    expect(run.stdout).toMatch(/3 findings: 1 critical, 1 medium, 1 low\n$/)
  })

  it('never echoes the secret it found written in the file, in any format', async () => {
    const file = await mixedConfig()
    for (const format of ['table', 'json', 'sarif']) {
      const run = await audit([file, '--format', format])
      expect(run.stdout).toContain('GH-SECRET-001')
      expect(run.stdout + run.stderr).not.toContain(WRITTEN_SECRET)
    }
  })

  it('writes JSON with id, severity, message, fix and a location for each finding', async () => {
    const file = await mixedConfig()
    const text = await readFile(file, 'utf8')
    const report = await auditJson([file])
    expect(report.version).toBe(1)
    expect(report.summary).toEqual({ low: 1, medium: 1, high: 0, critical: 1 })
    const secret = report.findings[0]
    expect(secret).toMatchObject({
      id: 'GH-SECRET-001',
      severity: 'critical',
      location: { file, keyPath: 'clients[0].clientSecret' },
    })
    // The reported line and column are where `clientSecret` is written.
    const line = text.split('\n')[(secret?.location.line ?? 0) - 1] ?? ''
    expect(line.slice((secret?.location.column ?? 0) - 1)).toMatch(/^clientSecret:/)
  })
})

describe('gatehouse audit: SARIF 2.1.0', () => {
  interface SarifLog {
    version: string
    $schema: string
    runs: {
      tool: {
        driver: { name: string; rules: { id: string; defaultConfiguration: { level: string } }[] }
      }
      results: {
        ruleId: string
        ruleIndex: number
        level: string
        message: { text: string }
        locations: {
          physicalLocation: {
            artifactLocation: { uri: string }
            region: { startLine: number; startColumn?: number }
          }
        }[]
      }[]
    }[]
  }

  it('lists every rule in tool.driver.rules and locates each result by uri and region', async () => {
    const file = await mixedConfig()
    const run = await audit([file, '--format', 'sarif'])
    expect(run.code).toBe(1)
    const log = JSON.parse(run.stdout) as SarifLog
    expect(log.version).toBe('2.1.0')
    expect(log.$schema).toMatch(/sarif-2\.1\.0/)
    expect(log.runs).toHaveLength(1)
    const [sarifRun] = log.runs
    const rules = sarifRun?.tool.driver.rules ?? []
    expect(sarifRun?.tool.driver.name).toBe('gatehouse-audit')
    expect(rules.map((rule) => rule.id)).toEqual(AUDIT_RULES.map((rule) => rule.id))
    const results = sarifRun?.results ?? []
    expect(results.map((result) => result.ruleId)).toEqual([
      'GH-SECRET-001',
      'GH-NET-002',
      'GH-PAR-001',
    ])
    expect(results.map((result) => result.level)).toEqual(['error', 'warning', 'note'])
    for (const result of results) {
      expect(rules[result.ruleIndex]?.id).toBe(result.ruleId)
      expect(result.message.text.length).toBeGreaterThan(10)
      const location = result.locations[0]?.physicalLocation
      expect(location?.artifactLocation.uri).toBe(`file://${file}`)
      expect(location?.region.startLine).toBeGreaterThan(0)
      expect(location?.region.startColumn).toBeGreaterThan(0)
    }
  })

  it('keeps a relative config path relative, so CI tools resolve it against the checkout', async () => {
    const file = await mixedConfig()
    const relativePath = relative(process.cwd(), file)
    const log = JSON.parse((await audit([relativePath, '--format', 'sarif'])).stdout) as SarifLog
    const uri = log.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri
    expect(uri).toBe(relativePath.split('/').map(encodeURIComponent).join('/'))
  })
})

describe('gatehouse audit: usage and configuration errors exit 2', () => {
  it.each([
    ['no config', []],
    ['two configs', ['a.yaml', 'b.yaml']],
    ['an unknown format', ['x.yaml', '--format', 'xml']],
    ['an unknown severity', ['x.yaml', '--fail-on', 'severe']],
    ['an unknown option', ['x.yaml', '--strict']],
  ])('refuses %s with the usage', async (_name, argv) => {
    const run = await audit(argv)
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^gatehouse audit: .+\n\nUsage:/)
  })

  it('names a missing file', async () => {
    const run = await audit([workspace.path('absent.yaml')])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('cannot read (ENOENT)')
  })

  it.each([
    [
      'an auth method the gateway does not have',
      ['gateway', 'routes', 0, 'auth'],
      { method: 'basic' },
      'gateway.routes[0].auth',
    ],
    [
      'an HMAC signing algorithm',
      ['authorizationServer', 'keys', 'algorithm'],
      'HS256',
      'authorizationServer.keys.algorithm',
    ],
    [
      'a "none" algorithm accepted by the gateway',
      ['gateway', 'issuers', 'main', 'algorithms'],
      ['none'],
      'gateway.issuers.main.algorithms[0]',
    ],
    [
      'TLS 1.1',
      ['gateway', 'listen', 'tls', 'minVersion'],
      'TLSv1.1',
      'gateway.listen.tls.minVersion',
    ],
    [
      'a wildcard CORS origin',
      ['tokenHandler', 'allowedOrigins'],
      ['*'],
      'tokenHandler.allowedOrigins[0]',
    ],
    [
      'an http CORS origin',
      ['tokenHandler', 'allowedOrigins'],
      ['https://app.example.test', 'http://app.example.test'],
      'tokenHandler.allowedOrigins[1]',
    ],
    [
      'an unknown key',
      ['gateway', 'routes', 1, 'timeout'],
      5,
      'gateway.routes[1].timeout: unknown key',
    ],
    [
      'a secret-based client without its secret',
      ['clients', 0, 'clientSecret'],
      undefined,
      'clients[0].clientSecret',
    ],
    [
      'a postgres URL written as a value',
      ['store'],
      { driver: 'postgres', url: 'postgres://u:p@db/x' },
      'store.url',
    ],
  ])('refuses %s, naming the key path and its line', async (name, path, value, keyPath) => {
    const file = await workspace.write(
      `invalid-${name.replaceAll(/\W+/g, '-')}.yaml`,
      await cleanConfigWith((doc) =>
        value === undefined ? doc.deleteIn(path) : doc.setIn(path, value),
      ),
    )
    const run = await audit([file])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(`invalid Gatehouse configuration ${file}`)
    expect(run.stderr).toContain(keyPath)
    expect(run.stderr).toMatch(new RegExp(`\\(${file.replaceAll('.', '\\.')}:\\d+:\\d+\\)`))
    expect(run.stderr).not.toContain('postgres://u:p@db/x')
  })

  it('refuses duplicated keys and YAML syntax errors with their line', async () => {
    const duplicated = await workspace.write(
      'duplicated.yaml',
      `${await cleanConfigWith()}\nstore: { driver: sqlite, path: other.db }\n`,
    )
    const run = await audit([duplicated])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/duplicated\.yaml:\d+:\d+: Map keys must be unique/)
    const broken = await workspace.write('broken.yaml', 'gateway: [unclosed\n')
    expect((await audit([broken])).code).toBe(2)
  })

  it('refuses a configuration with no component', async () => {
    const file = await workspace.write('empty.yaml', 'state: { driver: memory }\n')
    const run = await audit([file])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('(root): configure at least one of')
  })
})
