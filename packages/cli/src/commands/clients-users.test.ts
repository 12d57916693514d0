import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientsCommand, usersCommand } from './clients-users.js'

let dir: string
let config: string

function capture() {
  let text = ''
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk
      done()
    },
  })
  return { stream, text: () => text }
}

async function run(command: typeof clientsCommand, args: string[]) {
  const stdout = capture()
  const stderr = capture()
  const code = await command(args, { stdout: stdout.stream, stderr: stderr.stream })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-clients-'))
  config = join(dir, 'gatehouse.yaml')
  process.env.GATEHOUSE_TEST_KEK = randomBytes(32).toString('base64url')
  await writeFile(
    config,
    [
      'authorizationServer:',
      '  issuer: https://login.example.test',
      '  keys:',
      '    encryptionKey: { env: GATEHOUSE_TEST_KEK }',
      'store:',
      '  driver: sqlite',
      `  path: ${join(dir, 'as.db')}`,
      '',
    ].join('\n'),
  )
})

afterAll(async () => {
  delete process.env.GATEHOUSE_TEST_KEK
  delete process.env.GATEHOUSE_NEW_USER_PASSWORD
  await rm(dir, { recursive: true, force: true })
})

describe('gatehouse clients', () => {
  it('creates a client, shows its secret once, lists it without secrets, and rotates the secret', async () => {
    const created = await run(clientsCommand, [
      'create',
      '--config',
      config,
      '--id',
      'partner-1',
      '--name',
      'Partner',
      '--scope',
      'orders:read',
    ])
    expect(created.code).toBe(0)
    const secret = /\n(gcs_\S+)\n/.exec(created.stdout)?.[1]
    expect(secret).toBeDefined()
    const listed = await run(clientsCommand, ['list', '--config', config, '--json'])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain('partner-1')
    expect(listed.stdout).not.toContain(secret as string)
    expect(listed.stdout).not.toContain('secretHash')
    const rotated = await run(clientsCommand, [
      'rotate-secret',
      '--config',
      config,
      '--id',
      'partner-1',
    ])
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).not.toContain(secret as string)
  })

  it('refuses bad input with exit 2 and the offending field', async () => {
    const unknown = await run(clientsCommand, ['delete', '--config', config])
    expect(unknown.code).toBe(2)
    const badMethod = await run(clientsCommand, [
      'create',
      '--config',
      config,
      '--name',
      'X',
      '--auth-method',
      'client_secret_jwt',
    ])
    expect(badMethod.code).toBe(2)
    expect(badMethod.stderr).toContain('tokenEndpointAuthMethod')
    const missing = await run(clientsCommand, [
      'rotate-secret',
      '--config',
      config,
      '--id',
      'nobody',
    ])
    expect(missing.code).toBe(2)
  })
})

describe('gatehouse users', () => {
  it('reads the password from the environment only, creates the user with claims and TOTP, and lists without hashes', async () => {
    const noPassword = await run(usersCommand, ['create', '--config', config, '--username', 'dana'])
    expect(noPassword.code).toBe(2)
    expect(noPassword.stderr).toContain('GATEHOUSE_NEW_USER_PASSWORD')
    process.env.GATEHOUSE_NEW_USER_PASSWORD = 'a long enough password'
    const created = await run(usersCommand, [
      'create',
      '--config',
      config,
      '--username',
      'dana',
      '--claim',
      'customer_id=c-9',
      '--totp',
    ])
    expect(created.code).toBe(0)
    expect(created.stdout).toMatch(/TOTP secret[^\n]*\n[A-Z2-7]+\n/)
    expect(created.stdout).not.toContain('a long enough password')
    const listed = await run(usersCommand, ['list', '--config', config, '--json'])
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ username: 'dana', claims: { customer_id: 'c-9' }, mfa: true }),
    ])
    expect(listed.stdout).not.toContain('scrypt')
    const badClaim = await run(usersCommand, [
      'create',
      '--config',
      config,
      '--username',
      'eve',
      '--claim',
      'nonsense',
    ])
    expect(badClaim.code).toBe(2)
  })
})
