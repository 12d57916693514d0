import type { SpaRuntimeConfig } from './runtime-config.js'

/**
 * The headers every response of the SPA server carries. The Content-Security-Policy is the main
 * defence of a page that talks to a token handler: scripts only from this origin (no inline
 * script, no eval), network calls only to this origin, the token handler and the gateway (so an
 * injected script could not send data elsewhere), no framing, no plugins, no `<base>` and Trusted
 * Types enforced (the app builds its DOM with `textContent`, never HTML strings).
 */
export function securityHeaders(config: SpaRuntimeConfig): Readonly<Record<string, string>> {
  const connectSources = [
    "'self'",
    ...new Set([new URL(config.tokenHandlerUrl).origin, new URL(config.apiBaseUrl).origin]),
  ]
  const contentSecurityPolicy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src ${connectSources.join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ')
  return Object.freeze({
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // Legacy twin of frame-ancestors for browsers without CSP level 2.
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  })
}
