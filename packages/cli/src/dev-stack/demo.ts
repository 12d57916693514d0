/**
 * The demo set the dev stack creates on first start: clients for each way of getting a token,
 * users with claims, and the scopes that release those claims. Everything here is for a laptop,
 * never for production: secrets are kept in `.gatehouse/secrets.json` so they can be shown again.
 */
export const ORDERS_AUDIENCE = 'urn:gatehouse:api:orders'
export const ECHO_AUDIENCE = 'urn:gatehouse:api:echo'

export const DEMO_SCOPES = {
  'orders:read': { description: 'Read your orders', claims: ['customer_id', 'role'] },
  'orders:write': { description: 'Place and change your orders', claims: ['customer_id', 'role'] },
  profile: { description: 'Your name', claims: ['name'] },
  echo: { description: 'Call the echo API' },
  admin: { description: 'Administer Gatehouse' },
} as const

export interface DemoClient {
  readonly clientId: string
  readonly name: string
  readonly purpose: string
  readonly tokenEndpointAuthMethod:
    | 'client_secret_basic'
    | 'client_secret_post'
    | 'private_key_jwt'
    | 'none'
  readonly tokenFormat: 'opaque' | 'jwt' | 'split'
  readonly grantTypes: readonly (
    | 'client_credentials'
    | 'authorization_code'
    | 'refresh_token'
    | 'urn:ietf:params:oauth:grant-type:token-exchange'
  )[]
  readonly scopes: readonly string[]
  readonly audiences: readonly string[]
  readonly redirectUris?: readonly string[]
  readonly firstParty?: boolean
}

export const DEMO_CLIENTS: readonly DemoClient[] = [
  {
    clientId: 'demo-partner',
    name: 'Demo partner (external, opaque tokens)',
    purpose:
      'an external confidential client: gets opaque tokens, which the gateway swaps for JWTs (phantom token)',
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenFormat: 'opaque',
    grantTypes: ['client_credentials'],
    scopes: ['orders:read', 'echo'],
    audiences: [ORDERS_AUDIENCE, ECHO_AUDIENCE],
  },
  {
    clientId: 'demo-internal',
    name: 'Demo internal service (JWT tokens)',
    purpose:
      'an internal service client: gets JWT access tokens directly, and may exchange tokens (RFC 8693)',
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenFormat: 'jwt',
    grantTypes: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    scopes: ['orders:read', 'orders:write', 'echo'],
    audiences: [ORDERS_AUDIENCE, ECHO_AUDIENCE],
  },
  {
    clientId: 'demo-split',
    name: 'Demo partner (split tokens)',
    purpose:
      'a client that receives only the signature of its JWT (split token): the gateway rebuilds the JWT from the header and payload the authorization server kept',
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenFormat: 'split',
    grantTypes: ['client_credentials'],
    scopes: ['echo'],
    audiences: [ECHO_AUDIENCE],
  },
  {
    clientId: 'demo-cli',
    name: 'Demo command-line app (public client)',
    purpose:
      'a public client (no secret): authorization code + PKCE with a loopback redirect URI, as a native app does',
    tokenEndpointAuthMethod: 'none',
    tokenFormat: 'opaque',
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'profile', 'offline_access', 'orders:read', 'orders:write'],
    audiences: [ORDERS_AUDIENCE],
    redirectUris: ['http://127.0.0.1:8765/callback'],
  },
  {
    clientId: 'demo-service-jwt',
    name: 'Demo service (private_key_jwt)',
    purpose:
      'a confidential client that authenticates with a signed JWT assertion (private_key_jwt, RFC 7523) instead of a secret',
    tokenEndpointAuthMethod: 'private_key_jwt',
    tokenFormat: 'jwt',
    grantTypes: ['client_credentials'],
    scopes: ['orders:read', 'echo'],
    audiences: [ORDERS_AUDIENCE, ECHO_AUDIENCE],
  },
  {
    clientId: 'gatehouse-token-handler',
    name: 'Gatehouse token handler (for the example SPA)',
    purpose:
      'the token handler: the confidential client that runs the code flow for the SPA and keeps its tokens in encrypted cookies',
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenFormat: 'opaque',
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'profile', 'offline_access', 'orders:read', 'orders:write'],
    audiences: [ORDERS_AUDIENCE],
    // Re-registered at every start to follow the SPA's port.
    redirectUris: ['https://localhost:8446/callback'],
    firstParty: true,
  },
  {
    clientId: 'gatehouse-gateway',
    name: 'Gatehouse gateway (introspection)',
    purpose: 'the gateway itself: introspects opaque tokens to get their JWT form (phantom token)',
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenFormat: 'jwt',
    grantTypes: ['client_credentials'],
    scopes: [],
    audiences: [],
  },
  {
    clientId: 'demo-admin',
    name: 'Gatehouse admin',
    purpose: 'the admin client: client credentials with the admin scope for the admin API',
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenFormat: 'jwt',
    grantTypes: ['client_credentials'],
    scopes: ['admin'],
    audiences: [],
  },
]

export interface DemoUser {
  readonly username: string
  readonly claims: Readonly<Record<string, string>>
  readonly totp: boolean
}

export const DEMO_USERS: readonly DemoUser[] = [
  {
    username: 'alice',
    claims: { customer_id: 'c-1001', role: 'customer', name: 'Alice Example' },
    totp: false,
  },
  {
    username: 'bob',
    claims: { customer_id: 'c-2002', role: 'customer', name: 'Bob Example' },
    totp: true,
  },
  { username: 'admin', claims: { role: 'admin', name: 'Ada Admin' }, totp: false },
]
