import { z } from 'zod'
import { SCOPE_TOKEN } from '../config/schema.js'
import type { AuthorizationServerStore, ClientRecord } from '../store/store.js'
import { generateOpaque } from '../tokens/opaque.js'
import { tokenHash } from '../tokens/token-hash.js'

const AbsoluteUri = z.string().refine((value) => {
  try {
    return new URL(value).hash === '' && !value.includes('#')
  } catch {
    return false
  }
}, 'must be an absolute URI without a fragment')

/** RFC 8252 §7.3 / RFC 9700 §4.1: https, or http on a loopback IP literal for native apps. */
const RedirectUri = AbsoluteUri.refine((value) => {
  const url = new URL(value)
  if (url.username !== '' || url.password !== '') return false
  if (url.protocol === 'https:') return true
  return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]')
}, 'must be https, or http on 127.0.0.1 / [::1], without userinfo')

const PublicJwk = z
  .record(z.string(), z.unknown())
  .refine(
    (jwk) => ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].every((member) => !(member in jwk)),
    'must be a public key (no private members)',
  )

/** The fields of a client registration: the admin API, `createClient` and the CLI's config file. */
export const CLIENT_INPUT_FIELDS = {
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{3,128}$/)
    .optional(),
  name: z.string().min(1).max(200),
  tokenEndpointAuthMethod: z
    .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
    .default('client_secret_basic'),
  jwks: z.strictObject({ keys: z.array(PublicJwk).min(1) }).optional(),
  redirectUris: z.array(RedirectUri).default([]),
  postLogoutRedirectUris: z.array(RedirectUri).default([]),
  grantTypes: z
    .array(
      z.enum([
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ]),
    )
    .min(1)
    .default(['client_credentials']),
  scopes: z.array(z.string().regex(SCOPE_TOKEN)).default([]),
  audiences: z.array(AbsoluteUri).default([]),
  tokenFormat: z.enum(['opaque', 'jwt', 'split']).default('opaque'),
  firstParty: z.boolean().default(false),
  requirePushedAuthorizationRequests: z.boolean().default(false),
  accessTokenTtlSeconds: z.number().int().min(30).max(86_400).optional(),
}

type ClientCheckInput = Pick<
  z.output<z.ZodObject<typeof CLIENT_INPUT_FIELDS>>,
  'tokenEndpointAuthMethod' | 'jwks' | 'grantTypes' | 'redirectUris'
>

/** The cross-field rules of a client registration (shared with the CLI's config schema). */
export function checkClientInput(client: ClientCheckInput, issues: z.RefinementCtx): void {
  const fail = (path: string, message: string) =>
    issues.addIssue({ code: 'custom', path: [path], message })
  if (client.tokenEndpointAuthMethod === 'private_key_jwt' && client.jwks === undefined) {
    fail('jwks', 'private_key_jwt needs the client public keys')
  }
  if (client.tokenEndpointAuthMethod !== 'private_key_jwt' && client.jwks !== undefined) {
    fail('jwks', 'jwks is only for private_key_jwt')
  }
  if (
    client.tokenEndpointAuthMethod === 'none' &&
    client.grantTypes.includes('client_credentials')
  ) {
    fail('grantTypes', 'a public client cannot use client_credentials')
  }
  if (client.grantTypes.includes('authorization_code') && client.redirectUris.length === 0) {
    fail('redirectUris', 'authorization_code needs at least one redirect URI')
  }
}

export const ClientInputSchema = z.strictObject(CLIENT_INPUT_FIELDS).superRefine(checkClientInput)
export type ClientInput = z.input<typeof ClientInputSchema>

export interface CreatedClient {
  readonly client: ClientRecord
  /** Shown once, never stored: only its SHA-256 is kept. Null for public and private_key_jwt clients. */
  readonly clientSecret: string | null
}

/**
 * Registers a client. Its secret is 256 bits of randomness in the recognisable `gcs_` format;
 * the store keeps only its SHA-256. The access-token lifetime of a client can only shorten the
 * server's (`maxAccessTokenTtlSeconds`), so key retention stays correct.
 */
export async function createClient(
  store: AuthorizationServerStore,
  input: ClientInput,
  options: { readonly now?: number; readonly maxAccessTokenTtlSeconds?: number } = {},
): Promise<CreatedClient> {
  const parsed = ClientInputSchema.parse(input)
  if (
    parsed.accessTokenTtlSeconds !== undefined &&
    options.maxAccessTokenTtlSeconds !== undefined &&
    parsed.accessTokenTtlSeconds > options.maxAccessTokenTtlSeconds
  ) {
    throw new TypeError('accessTokenTtlSeconds exceeds the server access-token lifetime')
  }
  const hasSecret =
    parsed.tokenEndpointAuthMethod === 'client_secret_basic' ||
    parsed.tokenEndpointAuthMethod === 'client_secret_post'
  const clientSecret = hasSecret ? generateOpaque('client_secret') : null
  const client: ClientRecord = {
    clientId: parsed.clientId ?? `client_${generateOpaque('client_secret').slice(4, 24)}`,
    name: parsed.name,
    secretHash: clientSecret === null ? null : tokenHash(clientSecret),
    tokenEndpointAuthMethod: parsed.tokenEndpointAuthMethod,
    jwks: parsed.jwks ?? null,
    redirectUris: parsed.redirectUris,
    postLogoutRedirectUris: parsed.postLogoutRedirectUris,
    grantTypes: parsed.grantTypes,
    scopes: parsed.scopes,
    audiences: parsed.audiences,
    tokenFormat: parsed.tokenFormat,
    firstParty: parsed.firstParty,
    requirePushedAuthorizationRequests: parsed.requirePushedAuthorizationRequests,
    accessTokenTtlSeconds: parsed.accessTokenTtlSeconds ?? null,
    createdAt: options.now ?? Date.now(),
  }
  await store.createClient(client)
  return { client, clientSecret }
}

/** Replaces a client's secret; the old one stops working at once. */
export async function rotateClientSecret(
  store: AuthorizationServerStore,
  clientId: string,
): Promise<string | null> {
  const client = await store.getClient(clientId)
  if (client === null || client.secretHash === null) return null
  const clientSecret = generateOpaque('client_secret')
  await store.updateClient({ ...client, secretHash: tokenHash(clientSecret) })
  return clientSecret
}

/** The client as the admin API shows it: never the secret hash. */
export function publicClientView(client: ClientRecord): Record<string, unknown> {
  const { secretHash: _secretHash, ...rest } = client
  return rest
}

const ClientChangeSchema = z
  .strictObject({
    name: z.string(),
    jwks: z.unknown(),
    redirectUris: z.unknown(),
    postLogoutRedirectUris: z.unknown(),
    grantTypes: z.unknown(),
    scopes: z.unknown(),
    audiences: z.unknown(),
    tokenFormat: z.unknown(),
    firstParty: z.unknown(),
    requirePushedAuthorizationRequests: z.unknown(),
    accessTokenTtlSeconds: z.unknown(),
  })
  .partial()
export type ClientChange = Omit<Partial<ClientInput>, 'clientId' | 'tokenEndpointAuthMethod'>

/**
 * Changes a registered client. The client id, its authentication method and its secret stay
 * (rotate the secret with `rotateClientSecret`); the merged registration is validated as a whole.
 * Returns null when there is no such client.
 */
export async function updateClient(
  store: AuthorizationServerStore,
  clientId: string,
  change: ClientChange,
  options: { readonly maxAccessTokenTtlSeconds?: number } = {},
): Promise<ClientRecord | null> {
  ClientChangeSchema.parse(change)
  const current = await store.getClient(clientId)
  if (current === null) return null
  const merged = ClientInputSchema.parse({
    clientId: current.clientId,
    name: current.name,
    tokenEndpointAuthMethod: current.tokenEndpointAuthMethod,
    ...(current.jwks === null ? {} : { jwks: current.jwks }),
    redirectUris: current.redirectUris,
    postLogoutRedirectUris: current.postLogoutRedirectUris,
    grantTypes: current.grantTypes,
    scopes: current.scopes,
    audiences: current.audiences,
    tokenFormat: current.tokenFormat,
    firstParty: current.firstParty,
    requirePushedAuthorizationRequests: current.requirePushedAuthorizationRequests,
    ...(current.accessTokenTtlSeconds === null
      ? {}
      : { accessTokenTtlSeconds: current.accessTokenTtlSeconds }),
    ...change,
  })
  if (
    merged.accessTokenTtlSeconds !== undefined &&
    options.maxAccessTokenTtlSeconds !== undefined &&
    merged.accessTokenTtlSeconds > options.maxAccessTokenTtlSeconds
  ) {
    throw new TypeError('accessTokenTtlSeconds exceeds the server access-token lifetime')
  }
  const updated: ClientRecord = {
    ...current,
    name: merged.name,
    jwks: merged.jwks ?? null,
    redirectUris: merged.redirectUris,
    postLogoutRedirectUris: merged.postLogoutRedirectUris,
    grantTypes: merged.grantTypes,
    scopes: merged.scopes,
    audiences: merged.audiences,
    tokenFormat: merged.tokenFormat,
    firstParty: merged.firstParty,
    requirePushedAuthorizationRequests: merged.requirePushedAuthorizationRequests,
    accessTokenTtlSeconds: merged.accessTokenTtlSeconds ?? null,
  }
  await store.updateClient(updated)
  return updated
}
