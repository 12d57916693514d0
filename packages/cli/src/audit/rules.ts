/**
 * Every rule of `gatehouse audit`: the registry that findings, SARIF `rules` and `docs/audit.md`
 * come from (a test keeps the doc in step with this list in both directions). Ids are stable:
 * never renumber or reuse one; retire a rule by leaving its id unused.
 */

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface AuditRule {
  readonly id: string
  readonly severity: Severity
  /** One line, as a table heading would show it. */
  readonly title: string
  /** Why it matters. */
  readonly rationale: string
  /** What to change. */
  readonly fix: string
}

export const AUDIT_RULES = [
  {
    id: 'GH-ROUTE-001',
    severity: 'medium',
    title: 'Route is public',
    rationale:
      'A `public` route forwards requests with no token at all. Each one should be a deliberate, reviewed exception (health checks, public catalogues).',
    fix: 'Give the route a token method (`phantom` for external clients, `jwt` for internal ones), or keep it public knowingly and accept the finding.',
  },
  {
    id: 'GH-ROUTE-002',
    severity: 'high',
    title: 'Public route accepts write methods',
    rationale:
      'Anyone can POST, PUT, PATCH or DELETE through a `public` route: the upstream changes state for callers nobody authenticated.',
    fix: 'Split the route: keep the read methods public if they must be, and put the write methods on a route with a token method and scopes.',
  },
  {
    id: 'GH-ROUTE-003',
    severity: 'high',
    title: 'Overlapping routes with different authentication',
    rationale:
      'The gateway takes the first matching route in file order. When two routes match the same host, path and method with a different auth method, issuer or audience, reordering the file (or adding a route) silently changes how a path is protected, or which audience’s tokens reach it.',
    fix: 'Make the paths disjoint (`/api/orders/**` and `/public/catalogue/**`), or give overlapping routes the same auth method, issuer and audience.',
  },
  {
    id: 'GH-ROUTE-004',
    severity: 'high',
    title: 'Write method without a required scope',
    rationale:
      'Without `scopes` for a write method, any valid token for the audience can change data, including tokens issued for read-only use.',
    fix: 'Add `scopes: { POST: [orders:write] }` (one entry per write method the route allows).',
  },
  {
    id: 'GH-OPENAPI-001',
    severity: 'medium',
    title: 'OpenAPI operation with no route',
    rationale:
      'The upstream documents an operation that no gateway route forwards: either it is unreachable (dead documentation) or it is reached some other way around the gateway.',
    fix: 'Add a route for the operation (with its method, auth and scopes), or remove the operation from the API.',
  },
  {
    id: 'GH-UPSTREAM-001',
    severity: 'high',
    title: 'Upstream over plain HTTP',
    rationale:
      'The gateway forwards tokens (the JWT of phantom and split routes) and personal data to this upstream in clear text.',
    fix: 'Serve the upstream over https (the dev CA makes certificates) and drop `allowInsecureHttp`.',
  },
  {
    id: 'GH-UPSTREAM-002',
    severity: 'low',
    title: 'Upstream without a client certificate (mTLS)',
    rationale:
      'Zero trust: an upstream that does not require the gateway’s client certificate accepts calls from anything that can reach it, around the gateway’s checks.',
    fix: 'Set `clientCertificate: { cert, key }` on the upstream and make the API accept only that certificate.',
  },
  {
    id: 'GH-LIMIT-001',
    severity: 'medium',
    title: 'Route without a rate limit',
    rationale:
      'Neither the route nor `gateway.rateLimits` limits it: one client can exhaust the upstream, or brute-force identifiers (OWASP API4).',
    fix: 'Add a global `gateway.rateLimits` policy, or `rateLimits` on the route (keyed by client, subject or ip).',
  },
  {
    id: 'GH-ABUSE-001',
    severity: 'low',
    title: 'Enumeration detector off',
    rationale:
      'Walks through other users’ object ids (BOLA, OWASP API1) go unnoticed: no alert, no temporary block.',
    fix: 'Set `gateway.abuse.enumeration: { threshold: 20, blockSeconds: 300 }`.',
  },
  {
    id: 'GH-NET-001',
    severity: 'high',
    title: 'Every address is a trusted proxy',
    rationale:
      'A /0 in `trustedProxies` lets any client set `X-Forwarded-For`, pick its own IP and walk around IP rate limits and the block list.',
    fix: 'List only the addresses or ranges of your load balancers.',
  },
  {
    id: 'GH-NET-002',
    severity: 'medium',
    title: 'Metrics on a non-loopback interface',
    rationale:
      'The admin port serves Prometheus metrics over plain http without authentication; route names, client ids and error rates help an attacker.',
    fix: 'Bind `gateway.admin.host` to 127.0.0.1 (scrape through a sidecar or a private network listener).',
  },
  {
    id: 'GH-JWKS-001',
    severity: 'medium',
    title: 'JWKS caching disabled',
    rationale:
      'With `jwksMaxAgeSeconds: 0` every validator may fetch the JWKS on every miss: an outage of the authorization server becomes an outage of every API, and key-fetch floods are cheap to trigger.',
    fix: 'Set `authorizationServer.keys.jwksMaxAgeSeconds` to 300 or more.',
  },
  {
    id: 'GH-JWKS-002',
    severity: 'low',
    title: 'JWKS cache lifetime very short',
    rationale:
      'Below a minute, validators refetch the JWKS almost continuously; the next key is also published only that long before use.',
    fix: 'Set `authorizationServer.keys.jwksMaxAgeSeconds` to 300 or more.',
  },
  {
    id: 'GH-ALG-001',
    severity: 'medium',
    title: 'Gateway accepts algorithms the issuer does not use',
    rationale:
      'RFC 8725 §3.1: accept exactly the algorithms the issuer signs with. Extra entries widen the surface for key-confusion and downgrade attacks for no benefit.',
    fix: 'Set `gateway.issuers.<name>.algorithms` to `[<authorizationServer.keys.algorithm>]`.',
  },
  {
    id: 'GH-ALG-002',
    severity: 'low',
    title: 'RSA PKCS#1 v1.5 signatures (RS256)',
    rationale:
      'RS256 keys are 2048-bit RSA at best here, tokens are larger and slower to sign, and PKCS#1 v1.5 padding has a history of implementation flaws. (HS*, `none` and TLS below 1.2 are refused by the schema itself.)',
    fix: 'Use ES256 (the default) or EdDSA; PS256 where RSA is required.',
  },
  {
    id: 'GH-TTL-001',
    severity: 'medium',
    title: 'Access tokens live longer than an hour',
    rationale:
      'A stolen access token works until it expires; self-contained JWTs cannot be recalled at all. RFC 9700 §2.2 recommends short-lived access tokens.',
    fix: 'Set `accessTokenTtlSeconds` to 3600 or less (the default is 600); clients refresh.',
  },
  {
    id: 'GH-TTL-002',
    severity: 'medium',
    title: 'Refresh tokens live longer than 30 days',
    rationale:
      'A long-lived refresh token is a long-lived credential; rotation limits reuse but not the window of a token nobody used yet.',
    fix: 'Set `authorizationServer.tokens.refreshTokenTtlSeconds` to 2592000 (30 days) or less.',
  },
  {
    id: 'GH-TTL-003',
    severity: 'low',
    title: 'ID tokens live longer than an hour',
    rationale:
      'An ID token is proof of a recent login for the client; a long lifetime makes replayed ID tokens (e.g. as `id_token_hint`) useful for longer.',
    fix: 'Set `authorizationServer.tokens.idTokenTtlSeconds` to 3600 or less.',
  },
  {
    id: 'GH-TTL-004',
    severity: 'low',
    title: 'Login sessions last longer than a day',
    rationale:
      'The login session cookie lets a browser get new codes without a password; on a shared or stolen device it should not outlive a working day.',
    fix: 'Set `authorizationServer.login.sessionTtlSeconds` to 86400 or less.',
  },
  {
    id: 'GH-KEYS-001',
    severity: 'medium',
    title: 'Signing key rotation disabled',
    rationale:
      'A signing key that never rotates has unbounded exposure: a leaked key signs valid tokens forever, and rotation is never exercised before it is needed.',
    fix: 'Set `authorizationServer.keys.rotation.enabled: true` (the default).',
  },
  {
    id: 'GH-LOGIN-001',
    severity: 'medium',
    title: 'Lockout allows many password guesses',
    rationale:
      'More than 10 failed attempts before the lockout gives online password guessing a real chance against common passwords.',
    fix: 'Set `authorizationServer.login.maxFailedAttempts` to 10 or less (the default is 5).',
  },
  {
    id: 'GH-CLIENT-001',
    severity: 'medium',
    title: 'JWT access tokens issued to an external client',
    rationale:
      'A client is external unless it is `firstParty: true` and confidential. A JWT handed to an external client exposes its claims (personal data) to that party and makes the token format part of your API contract; opaque tokens keep claims inside (phantom-token pattern).',
    fix: 'Set `tokenFormat: opaque` (or `split`) for the client and put its routes on `phantom` (or `split`) auth; keep `jwt` for first-party confidential services.',
  },
  {
    id: 'GH-CLIENT-002',
    severity: 'medium',
    title: 'Token exchange granted to an external client',
    rationale:
      'Token exchange (RFC 8693) trades a token for one of another audience. It is meant for internal services calling each other; in the hands of an external client it turns one API’s token into access to others.',
    fix: 'Remove `urn:ietf:params:oauth:grant-type:token-exchange` from the client’s `grantTypes`, or make it a first-party confidential service (`firstParty: true`).',
  },
  {
    id: 'GH-SECRET-001',
    severity: 'critical',
    title: 'Client secret written in the configuration file',
    rationale:
      'Configuration files end up in version control, backups and tickets: a secret written in one is a leaked secret.',
    fix: 'Move the secret to the environment or a file readable only by Gatehouse: `clientSecret: { env: ORDERS_CLIENT_SECRET }`, and rotate the one that was written down.',
  },
  {
    id: 'GH-CORS-001',
    severity: 'high',
    title: 'Wide or plain-http browser origin allowed',
    rationale:
      'A route’s CORS list (`gateway.routes[].cors`) and the Origin check of `cookie` routes (`gateway.tokenHandler`) decide which web pages may call the APIs from a browser, with the user’s cookies on cookie routes. A wildcard, `null` or `http:` origin lets pages anyone can serve (or alter on the network) make those calls.',
    fix: 'List the exact https origins of your web apps in each route’s `cors.allowedOrigins` and `gateway.tokenHandler.allowedOrigins` (the token handler’s own `allowedOrigins` is https-only already).',
  },
  {
    id: 'GH-COOKIE-001',
    severity: 'medium',
    title: 'Token handler cookies shared with a whole domain',
    rationale:
      '`cookies.domain` rules out the `__Host-` prefix: every host under the domain receives the session cookies and can set cookies that shadow them (a subdomain takeover becomes a session takeover).',
    fix: 'Serve the SPA, the token handler and the gateway on one host and remove `tokenHandler.cookies.domain`.',
  },
  {
    id: 'GH-PAR-001',
    severity: 'low',
    title: 'Token handler does not push authorization requests',
    rationale:
      'Without PAR (RFC 9126) the authorization request travels through the browser, where it can be read and altered.',
    fix: 'Set `tokenHandler.pushedAuthorizationRequests.enabled: true` (the default).',
  },
] as const satisfies readonly AuditRule[]

export type RuleId = (typeof AUDIT_RULES)[number]['id']

const RULES_BY_ID: ReadonlyMap<string, AuditRule> = new Map(
  AUDIT_RULES.map((rule) => [rule.id, rule]),
)

export function ruleOf(id: RuleId): AuditRule {
  const rule = RULES_BY_ID.get(id)
  if (rule === undefined) throw new TypeError(`unknown audit rule ${id}`)
  return rule
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity)
}
