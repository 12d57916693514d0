import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

/**
 * The dev stack's state directory (`.gatehouse/`, git-ignored): TLS material, generated
 * secrets, the SQLite database and `dev.json`. Made on the first `gatehouse start`, reused after.
 */
export interface DevWorkspace {
  readonly root: string
  readonly tlsDir: string
  readonly dataDir: string
  readonly devJsonFile: string
  readonly secrets: DevSecrets
}

/** Secrets the dev stack generates for itself on first start (file mode 0600). */
export interface DevSecrets {
  /** base64url, 32 bytes: encrypts the authorization server's private keys at rest. */
  readonly keyEncryptionKey: string
  /** base64url, 32 bytes: the token handler's cookie encryption key. */
  readonly cookieKey: string
  /** Client secrets of the demo clients, by client id. */
  readonly clientSecrets: Readonly<Record<string, string>>
  /** Passwords of the demo users, by username. */
  readonly userPasswords: Readonly<Record<string, string>>
  /** Base32 TOTP secrets of the demo users with MFA, by username. */
  readonly totpSecrets: Readonly<Record<string, string>>
}

const SECRETS_FILE = 'secrets.json'

export async function openDevWorkspace(dir: string): Promise<DevWorkspace> {
  const root = resolve(dir)
  const tlsDir = join(root, 'tls')
  const dataDir = join(root, 'data')
  await mkdir(tlsDir, { recursive: true, mode: 0o700 })
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const secrets = await loadOrCreateSecrets(join(root, SECRETS_FILE))
  return { root, tlsDir, dataDir, devJsonFile: join(root, 'dev.json'), secrets }
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/** A password people can type from the terminal: 4 groups of 5 base32-ish characters. */
export function randomPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789'
  const bytes = randomBytes(20)
  const chars = [...bytes].map((byte) => alphabet[byte % alphabet.length])
  return [0, 5, 10, 15].map((start) => chars.slice(start, start + 5).join('')).join('-')
}

async function loadOrCreateSecrets(file: string): Promise<DevSecrets> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<DevSecrets>
    if (typeof parsed.keyEncryptionKey === 'string' && typeof parsed.cookieKey === 'string') {
      return {
        keyEncryptionKey: parsed.keyEncryptionKey,
        cookieKey: parsed.cookieKey,
        clientSecrets: parsed.clientSecrets ?? {},
        userPasswords: parsed.userPasswords ?? {},
        totpSecrets: parsed.totpSecrets ?? {},
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${file} is unreadable; remove it to start over with new secrets`, {
        cause: error,
      })
    }
  }
  const secrets: DevSecrets = {
    keyEncryptionKey: randomSecret(),
    cookieKey: randomSecret(),
    clientSecrets: {},
    userPasswords: {},
    totpSecrets: {},
  }
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  return secrets
}

/** Adds generated secrets the first time a name is seen, and keeps them for later starts. */
export async function rememberSecrets(
  workspace: DevWorkspace,
  update: Partial<Pick<DevSecrets, 'clientSecrets' | 'userPasswords' | 'totpSecrets'>>,
): Promise<DevWorkspace> {
  const secrets: DevSecrets = {
    ...workspace.secrets,
    clientSecrets: { ...workspace.secrets.clientSecrets, ...update.clientSecrets },
    userPasswords: { ...workspace.secrets.userPasswords, ...update.userPasswords },
    totpSecrets: { ...workspace.secrets.totpSecrets, ...update.totpSecrets },
  }
  const next = { ...workspace, secrets }
  await writeFile(join(workspace.root, SECRETS_FILE), `${JSON.stringify(secrets, null, 2)}\n`, {
    mode: 0o600,
  })
  return next
}
