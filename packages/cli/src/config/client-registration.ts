import { SecretReference } from '@gatehouse/authorization-server'
import { z } from 'zod'

/**
 * A client registration written in the Gatehouse configuration, for declarative setups.
 *
 * The fields are those of the authorization server's `ClientInputSchema` (admin API, `createClient`)
 * plus the client's secret. That schema is not exported by `@gatehouse/authorization-server` yet,
 * so its shape is restated here; `client-registration.test.ts` compares both JSON Schemas and fails
 * the moment they drift. TODO(#6): import `ClientInputSchema` once the package exports it.
 */

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

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

/** The authorization server's client input, field for field. */
export const ClientInputShape = {
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

const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post'])

export const ClientRegistration = z
  .strictObject({
    ...ClientInputShape,
    /** Required here: a declared client is referred to by a stable id. */
    clientId: z.string().regex(/^[A-Za-z0-9._~-]{3,128}$/),
    /**
     * For client_secret_basic / client_secret_post: `{ env }` or `{ file }`. A literal string is
     * accepted so that `gatehouse audit` can point at it (GH-SECRET-001), never recommended.
     */
    clientSecret: z.union([SecretReference, z.string().min(1)]).optional(),
  })
  .superRefine(function checkClientRegistration(client, issues) {
    const fail = (path: string, message: string) =>
      issues.addIssue({ code: 'custom', path: [path], message })
    // The authorization server's own cross-field rules (admin/clients.ts).
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
    // The secret belongs to the secret-based methods only, and they cannot work without one.
    const needsSecret = SECRET_METHODS.has(client.tokenEndpointAuthMethod)
    if (needsSecret && client.clientSecret === undefined) {
      fail(
        'clientSecret',
        `${client.tokenEndpointAuthMethod} needs clientSecret ({ env } or { file })`,
      )
    }
    if (!needsSecret && client.clientSecret !== undefined) {
      fail('clientSecret', `a ${client.tokenEndpointAuthMethod} client has no secret`)
    }
  })
export type ClientRegistration = z.output<typeof ClientRegistration>
