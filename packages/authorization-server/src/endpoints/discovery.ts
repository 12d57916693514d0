import type { RequestContext, ServerContext } from '../context.js'
import { sendText } from '../http/respond.js'
import { SIGNING_ALGORITHMS } from '../keys/signing-keys.js'
import type { GrantType } from '../store/store.js'

export interface SupportedFeatures {
  readonly grantTypes: readonly GrantType[]
  /** The front channel (/authorize, login, consent, /userinfo, ID tokens, PAR, logout). */
  readonly authorization: boolean
}

const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const

/**
 * Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery 1.0),
 * listing exactly what this server supports: nothing is advertised that is not implemented.
 */
export function authorizationServerMetadata(
  ctx: ServerContext,
  features: SupportedFeatures,
): Record<string, unknown> {
  const { urls, config } = ctx
  const confidential = CLIENT_AUTH_METHODS.filter((method) => method !== 'none')
  const metadata: Record<string, unknown> = {
    issuer: config.issuer,
    token_endpoint: urls.token,
    jwks_uri: urls.jwks,
    introspection_endpoint: urls.introspection,
    revocation_endpoint: urls.revocation,
    scopes_supported: [...ctx.knownScopes].sort(),
    response_types_supported: features.authorization ? ['code'] : [],
    grant_types_supported: [...features.grantTypes],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    introspection_endpoint_auth_methods_supported: confidential,
    introspection_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    // RFC 9701 §7
    introspection_signing_alg_values_supported: [config.keys.algorithm],
  }
  if (features.authorization) {
    Object.assign(metadata, {
      authorization_endpoint: urls.authorization,
      userinfo_endpoint: urls.userinfo,
      end_session_endpoint: urls.endSession,
      pushed_authorization_request_endpoint: urls.pushedAuthorization,
      require_pushed_authorization_requests: false,
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [config.keys.algorithm],
      claims_supported: claimsSupported(ctx),
      claims_parameter_supported: false,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      prompt_values_supported: ['none', 'login', 'consent'],
    })
  }
  return metadata
}

function claimsSupported(ctx: ServerContext): string[] {
  const claims = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'amr'])
  for (const definition of Object.values(ctx.config.scopes)) {
    for (const claim of definition.claims) claims.add(claim)
  }
  return [...claims].sort()
}

export function createDiscoveryEndpoint(
  ctx: ServerContext,
  features: SupportedFeatures,
): (rc: RequestContext) => Promise<void> {
  // Built once: the metadata only changes with the configuration.
  const body = JSON.stringify(authorizationServerMetadata(ctx, features))
  return async function discoveryEndpoint(rc) {
    sendText(rc.res, 200, 'application/json; charset=utf-8', body, {
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
      pragma: '',
    })
  }
}
