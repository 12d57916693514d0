/**
 * A small, complete configuration shown at the top of `docs/configuration.md`: an authorization
 * server, one API behind the gateway over mTLS, and a declared client. The doc test checks that it
 * validates and that `gatehouse audit` finds nothing in it, so the example never teaches a mistake.
 */
export const EXAMPLE_CONFIG = `authorizationServer:
  issuer: https://id.example.com
  keys:
    encryptionKey: { env: GATEHOUSE_KEY_ENCRYPTION_KEY } # 32 random bytes, base64
  scopes:
    orders:read: { claims: [customer_id] }
    orders:write: { claims: [customer_id] }

store: { driver: sqlite, path: .gatehouse/gatehouse.db }

clients:
  - clientId: shop-web
    name: Shop web backend
    clientSecret: { env: SHOP_WEB_CLIENT_SECRET }
    grantTypes: [authorization_code, refresh_token]
    redirectUris: [https://shop.example.com/callback]
    scopes: [openid, orders:read, orders:write]

gateway:
  listen:
    host: 0.0.0.0
    tls: { cert: { file: tls/gateway.pem }, key: { file: tls/gateway-key.pem } }
  issuers:
    main:
      issuer: https://id.example.com
      jwksUri: https://id.example.com/jwks
      introspection:
        endpoint: https://id.example.com/introspect
        clientId: gateway
        clientSecret: { env: GATEWAY_CLIENT_SECRET }
  upstreams:
    orders:
      url: https://orders.internal:8443
      ca: { file: tls/ca.pem }
      clientCertificate:
        cert: { file: tls/gateway-client.pem }
        key: { file: tls/gateway-client-key.pem }
  rateLimits:
    - { name: per-client, key: client, limit: 100, windowSeconds: 10 }
  abuse:
    enumeration: { threshold: 20, blockSeconds: 300 }
  routes:
    - id: orders
      match: { path: /orders/**, methods: [GET, POST] }
      upstream: orders
      auth: { method: phantom, issuer: main, audience: https://orders.example.com }
      scopes: { GET: [orders:read], POST: [orders:write] }
`
