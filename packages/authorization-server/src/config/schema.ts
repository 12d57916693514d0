import { z } from 'zod'
import { SIGNING_ALGORITHMS } from '../keys/signing-keys.js'

/**
 * The authorization server's slice of the Gatehouse configuration. One schema gives the types,
 * validation, defaults and (through `z.toJSONSchema`) the docs. Unknown keys are errors. Secrets
 * are references (`{ env }` or `{ file }`) resolved by the caller with `resolveSecrets`.
 */
export const SecretReference = z.union([
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
])
export type SecretReference = z.infer<typeof SecretReference>

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

const seconds = (min: number, max: number, fallback: number) =>
  z.number().int().min(min).max(max).default(fallback)

const Issuer = z
  .url()
  .refine((value) => {
    const url = new URL(value)
    return url.protocol === 'https:' && url.search === '' && url.hash === ''
  }, 'the issuer must be an https URL without query or fragment (RFC 8414 §2)')
  .transform((value) => value.replace(/\/$/, ''))

export const ScopeDefinition = z.strictObject({
  description: z.string().optional(),
  /** The user attributes this scope releases into tokens and userinfo, e.g. `customer_id`. */
  claims: z.array(z.string().min(1)).default([]),
  /**
   * Per audience (RFC 8707 resource URI): the attributes released into access tokens for that
   * audience instead of `claims`. ID tokens and userinfo always use `claims`.
   */
  audiences: z.record(z.string().url(), z.array(z.string().min(1))).default({}),
})

export const AuthorizationServerConfigSchema = z.strictObject({
  issuer: Issuer,
  keys: z.strictObject({
    algorithm: z.enum(SIGNING_ALGORITHMS).default('ES256'),
    /** 32 random bytes, base64 or base64url: encrypts private keys and TOTP secrets at rest. */
    encryptionKey: SecretReference,
    /** Cache-Control max-age of /jwks. The next key is published at least this long ahead. */
    jwksMaxAgeSeconds: seconds(0, 86_400, 300),
    rotation: z
      .strictObject({
        enabled: z.boolean().default(true),
        intervalSeconds: seconds(3_600, 365 * 86_400, 30 * 86_400),
      })
      .prefault({}),
  }),
  tokens: z
    .strictObject({
      accessTokenTtlSeconds: seconds(30, 86_400, 600),
      refreshTokenTtlSeconds: seconds(60, 365 * 86_400, 14 * 86_400),
      authorizationCodeTtlSeconds: seconds(10, 600, 60),
      idTokenTtlSeconds: seconds(60, 86_400, 600),
      /** private_key_jwt assertions may not live longer than this (bounds the replay cache). */
      clientAssertionMaxTtlSeconds: seconds(30, 3_600, 300),
      clockSkewSeconds: seconds(0, 300, 30),
    })
    .prefault({}),
  /** Every scope the server knows, and the claims it releases. `openid` and `offline_access` are built in. */
  scopes: z.record(z.string().regex(SCOPE_TOKEN), ScopeDefinition).default({}),
  login: z
    .strictObject({
      maxFailedAttempts: z.number().int().min(1).max(100).default(5),
      lockoutSeconds: seconds(1, 86_400, 900),
      sessionTtlSeconds: seconds(60, 30 * 86_400, 8 * 3_600),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxBodyBytes: z.number().int().min(1_024).max(1_048_576).default(16_384),
      maxParameterLength: z.number().int().min(64).max(65_536).default(4_096),
    })
    .prefault({}),
  introspection: z
    .strictObject({
      /**
       * The clients (gateways, APIs) that may introspect tokens issued to other clients. Absent:
       * every confidential client may. Any client may always introspect its own tokens.
       */
      allowedClients: z.array(z.string().min(1)).optional(),
    })
    .prefault({}),
  sweepIntervalSeconds: seconds(10, 86_400, 300),
})

export type AuthorizationServerConfigInput = z.input<typeof AuthorizationServerConfigSchema>
export type AuthorizationServerConfig = z.output<typeof AuthorizationServerConfigSchema>

/** Validates and freezes the configuration; throws a ZodError naming the offending key. */
export function parseAuthorizationServerConfig(input: unknown): AuthorizationServerConfig {
  return deepFreeze(AuthorizationServerConfigSchema.parse(input))
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
