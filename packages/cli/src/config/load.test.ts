import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { GatehouseConfigError, loadGatehouseConfig, parseGatehouseConfig } from './load.js'
import { GatehouseConfigSchema } from './schema.js'

const SERVER = [
  'authorizationServer:',
  '  issuer: https://id.example.test/',
  '  keys: { encryptionKey: { env: KEK } }',
].join('\n')
const STORE = 'store: { driver: sqlite, path: gatehouse.db }'
const CLIENT = (id: string) =>
  `  - { clientId: ${id}, name: Svc, clientSecret: { env: SVC_SECRET } }`

function problemsOf(text: string) {
  try {
    parseGatehouseConfig('gatehouse.yaml', text)
  } catch (error) {
    if (error instanceof GatehouseConfigError) return error.problems
    throw error
  }
  throw new Error('expected a GatehouseConfigError')
}

describe('the root Gatehouse configuration', () => {
  it('composes the component slices, fills their defaults and freezes the result', () => {
    const loaded = parseGatehouseConfig(
      'gatehouse.yaml',
      `${SERVER}\n${STORE}\nclients:\n${CLIENT('svc-1')}\n`,
    )
    expect(loaded.settings.authorizationServer?.issuer).toBe('https://id.example.test')
    expect(loaded.settings.authorizationServer?.tokens.accessTokenTtlSeconds).toBe(600)
    expect(loaded.settings.state).toEqual({ driver: 'memory' })
    expect(loaded.settings.clients[0]?.tokenFormat).toBe('opaque')
    expect(Object.isFrozen(loaded.settings.clients[0])).toBe(true)
    expect(Object.isFrozen(loaded.settings.authorizationServer?.keys)).toBe(true)
  })

  it.each([
    ['no component at all', 'state: { driver: memory }\n', '(root)', 'configure at least one of'],
    ['an authorization server without a store', `${SERVER}\n`, 'store', 'required with'],
    [
      'clients without an authorization server',
      `clients:\n${CLIENT('svc-1')}\n`,
      'clients',
      'clients are registered at the authorizationServer',
    ],
    [
      'two clients with one id',
      `${SERVER}\n${STORE}\nclients:\n${CLIENT('svc-1')}\n${CLIENT('svc-1')}\n`,
      'clients[1].clientId',
      'duplicate client id',
    ],
    ['an unknown root key', `${SERVER}\n${STORE}\nstorage: {}\n`, 'storage', 'unknown key'],
    [
      'a redis URL written as a value',
      `${SERVER}\n${STORE}\nstate: { driver: redis, url: "redis://:pw@cache" }\n`,
      'state.url',
      '',
    ],
  ])('refuses %s, naming the key path', (_name, text, keyPath, message) => {
    const problems = problemsOf(text)
    const problem = problems.find((p) => p.keyPath === keyPath)
    expect(problem, JSON.stringify(problems)).toBeDefined()
    expect(problem?.message).toContain(message)
    expect(JSON.stringify(problems)).not.toContain(':pw@')
  })

  it('gives the line and column of the offending key', () => {
    const problems = problemsOf(`${SERVER}\n${STORE}\nstate:\n  driver: memory\n  ttl: 5\n`)
    expect(problems).toEqual([{ keyPath: 'state.ttl', message: 'unknown key', line: 7, column: 3 }])
  })

  it('has a JSON Schema that closes every object, from the root down', () => {
    const schema = z.toJSONSchema(GatehouseConfigSchema, { io: 'input' }) as {
      additionalProperties: unknown
      properties: Record<string, { additionalProperties?: unknown }>
    }
    expect(schema.additionalProperties).toBe(false)
    expect(schema.properties.authorizationServer?.additionalProperties).toBe(false)
    expect(schema.properties.gateway?.additionalProperties).toBe(false)
    expect(schema.properties.tokenHandler?.additionalProperties).toBe(false)
  })
})

describe('loadGatehouseConfig', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-config-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('reads a file and keeps the document as written beside the validated settings', async () => {
    const file = join(dir, 'gatehouse.yaml')
    await writeFile(file, `${SERVER}\n${STORE}\n`)
    const loaded = await loadGatehouseConfig(file)
    expect(loaded.file).toBe(file)
    expect(loaded.input).toMatchObject({
      authorizationServer: { issuer: 'https://id.example.test/' },
    })
    expect(loaded.source.locate(['store', 'path'])).toEqual({ line: 4, column: 26 })
  })

  it('names an unreadable file', async () => {
    await expect(loadGatehouseConfig(join(dir, 'absent.yaml'))).rejects.toThrow(
      /absent\.yaml:\n {2}- \(root\): cannot read \(ENOENT\)/,
    )
  })
})
