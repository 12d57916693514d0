import { z } from 'zod'

/**
 * The token handler's slice of the Gatehouse configuration: one zod schema for types,
 * validation, defaults and docs (`z.toJSONSchema`). Unknown keys are errors. Secrets (cookie keys,
 * the client secret or private key) are references resolved by the caller with
 * `resolveTokenHandlerSecrets`; nothing here reads the environment.
 */
export const SecretReference = z.union([
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
])
export type SecretReference = z.infer<typeof SecretReference>

const seconds = (min: number, max: number, fallback: number) =>
  z.number().int().min(min).max(max).default(fallback)

const HttpsUrl = z.url().refine((value) => {
  const url = new URL(value)
  return url.protocol === 'https:' && url.hash === '' && url.username === '' && url.password === ''
}, 'must be an https URL without fragment or credentials')

/** An origin exactly as browsers send it: scheme://host[:port], nothing more. */
const Origin = z.string().refine((value) => {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value
  } catch {
    return false
  }
}, 'must be an origin such as https://app.example.com (no path, no trailing slash)')

const Path = (what: string) =>
  z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)*$/, `${what} must be empty or /segments without a trailing slash`)

const ClientAuthentication = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('client_secret_basic'),
    secret: SecretReference,
  }),
  z.strictObject({
    method: z.literal('private_key_jwt'),
    /** A PKCS #8 PEM private key. */
    privateKey: SecretReference,
    algorithm: z.enum(['ES256', 'EdDSA', 'PS256', 'RS256']).default('ES256'),
    keyId: z.string().min(1).optional(),
  }),
])

const CookieKeyConfig = z.strictObject({
  /** Written into every sealed cookie; letters, digits, `_` and `-`, at most 32. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  /** 32 random bytes, base64 or base64url. */
  key: SecretReference,
})

export const TokenHandlerConfigSchema = z
  .strictObject({
    authorizationServer: z.strictObject({
      issuer: HttpsUrl,
      /** Per request to the server; past it the SPA gets 503 authorization_server_unavailable. */
      timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
    }),
    client: z.strictObject({
      id: z.string().min(1),
      authentication: ClientAuthentication,
    }),
    /** The SPA page the authorization server redirects to; registered exactly at the server. */
    redirectUri: HttpsUrl,
    postLogoutRedirectUri: HttpsUrl.optional(),
    scope: z.string().regex(/^openid( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must start with openid'),
    /** Extra authorization-request parameters, e.g. `{ "resource": "https://api.example.com" }`. */
    authorizationParameters: z.record(z.string(), z.string()).default({}),
    /** The exact origins the SPA runs on; CORS and the Origin check use this list only. */
    allowedOrigins: z.array(Origin).min(1),
    /** Where the token handler's endpoints live, e.g. `/tokenhandler` → `/tokenhandler/login/start`. */
    basePath: Path('basePath').default(''),
    cookies: z.strictObject({
      namePrefix: z
        .string()
        .regex(/^[a-z0-9-]{1,16}$/)
        .default('gatehouse'),
      /** Only when the SPA and the gateway are sibling hosts; rules out the `__Host-` prefix. */
      domain: z.string().min(1).optional(),
      /** The path the access-token cookie is sent to (the APIs behind the gateway). */
      apiPath: z
        .string()
        .regex(/^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/)
        .default('/'),
      keys: z.array(CookieKeyConfig).min(1),
      /** The key that seals new cookies; the others still open old ones (rotation). */
      currentKeyId: z.string().min(1),
    }),
    csrf: z
      .strictObject({
        headerName: z
          .string()
          .regex(/^x-[a-z0-9-]+$/)
          .default('x-gatehouse-csrf'),
      })
      .prefault({}),
    session: z
      .strictObject({
        /** The absolute lifetime; match the server's refresh-token lifetime. */
        absoluteLifetimeSeconds: seconds(300, 365 * 86_400, 14 * 86_400),
        loginTimeoutSeconds: seconds(60, 3_600, 600),
      })
      .prefault({}),
    refresh: z
      .strictObject({
        /** A second refresh of the same old refresh token within this window reuses the result. */
        graceSeconds: seconds(0, 120, 10),
        maxSessions: z.number().int().min(1).max(10_000_000).default(100_000),
      })
      .prefault({}),
    pushedAuthorizationRequests: z
      .strictObject({ enabled: z.boolean().default(true) })
      .prefault({}),
    endSession: z.strictObject({ idTokenHint: z.boolean().default(false) }).prefault({}),
    http: z
      .strictObject({ maxBodyBytes: z.number().int().min(1_024).max(65_536).default(8_192) })
      .prefault({}),
  })
  .superRefine((config, issues) => {
    const fail = (path: (string | number)[], message: string) =>
      issues.addIssue({ code: 'custom', path, message })
    const ids = config.cookies.keys.map((key) => key.id)
    if (new Set(ids).size !== ids.length) fail(['cookies', 'keys'], 'cookie key ids must be unique')
    if (!ids.includes(config.cookies.currentKeyId)) {
      fail(['cookies', 'currentKeyId'], 'must be the id of one of cookies.keys')
    }
    if (!config.allowedOrigins.includes(new URL(config.redirectUri).origin)) {
      fail(['redirectUri'], 'the redirect URI must be on one of the allowed origins')
    }
    for (const [index, origin] of config.allowedOrigins.entries()) {
      if (origin.startsWith('http:')) fail(['allowedOrigins', index], 'must be https')
    }
    for (const name of Object.keys(config.authorizationParameters)) {
      if (RESERVED_PARAMETERS.has(name)) {
        fail(['authorizationParameters', name], 'is set by the token handler')
      }
    }
  })

const RESERVED_PARAMETERS = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request_uri',
  'request',
])

export type TokenHandlerConfig = z.output<typeof TokenHandlerConfigSchema>
export type TokenHandlerConfigInput = z.input<typeof TokenHandlerConfigSchema>

/** Validates and freezes the token handler's configuration; throws a ZodError listing every issue. */
export function parseTokenHandlerConfig(input: unknown): TokenHandlerConfig {
  return deepFreeze(TokenHandlerConfigSchema.parse(input))
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
