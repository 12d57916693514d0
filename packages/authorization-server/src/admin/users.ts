import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { KeyEncryption } from '../keys/key-encryption.js'
import { hashPassword } from '../login/password.js'
import { generateTotpSecret } from '../login/totp.js'
import type { AuthorizationServerStore, UserRecord } from '../store/store.js'

export const UserInputSchema = z.strictObject({
  username: z.string().regex(/^[A-Za-z0-9._@+-]{1,128}$/),
  password: z.string().min(8).max(1_024),
  /** Attributes released into tokens by the scopes that map to them (config `scopes`). */
  claims: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  totp: z.boolean().default(false),
})
export type UserInput = z.input<typeof UserInputSchema>

export interface CreatedUser {
  readonly user: UserRecord
  /** Base32 TOTP secret to enrol in an authenticator app (shown once), or null. */
  readonly totpSecret: string | null
}

export async function createUser(
  store: AuthorizationServerStore,
  encryption: KeyEncryption,
  input: UserInput,
  options: { readonly now?: number } = {},
): Promise<CreatedUser> {
  const parsed = UserInputSchema.parse(input)
  const id = randomUUID()
  const totpSecret = parsed.totp ? generateTotpSecret() : null
  const user: UserRecord = {
    id,
    username: parsed.username,
    passwordHash: await hashPassword(parsed.password),
    encryptedTotpSecret: totpSecret === null ? null : encryption.encrypt(totpSecret, `totp:${id}`),
    lastTotpStep: null,
    claims: parsed.claims,
    failedLogins: 0,
    lockedUntil: null,
    disabled: false,
    createdAt: options.now ?? Date.now(),
  }
  await store.createUser(user)
  return { user, totpSecret }
}

/** The user as the admin API shows it: no password hash, no TOTP secret. */
export function publicUserView(user: UserRecord): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    claims: user.claims,
    mfa: user.encryptedTotpSecret !== null,
    failedLogins: user.failedLogins,
    lockedUntil: user.lockedUntil,
    disabled: user.disabled,
    createdAt: user.createdAt,
  }
}

export const UserChangeSchema = z.strictObject({
  password: z.string().min(8).max(1_024).optional(),
  claims: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  disabled: z.boolean().optional(),
})
export type UserChange = z.input<typeof UserChangeSchema>

/** Changes a user's password, claims or disabled flag; null when there is no such user. */
export async function updateUser(
  store: AuthorizationServerStore,
  id: string,
  change: UserChange,
): Promise<UserRecord | null> {
  const parsed = UserChangeSchema.parse(change)
  const current = await store.getUserById(id)
  if (current === null) return null
  const updated: UserRecord = {
    ...current,
    ...(parsed.password === undefined ? {} : { passwordHash: await hashPassword(parsed.password) }),
    ...(parsed.claims === undefined ? {} : { claims: parsed.claims }),
    ...(parsed.disabled === undefined ? {} : { disabled: parsed.disabled }),
  }
  await store.updateUser(updated)
  return updated
}
