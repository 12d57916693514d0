import { describe, expect, it } from 'vitest'
import { parseAuthorizationServerConfig } from '../config/schema.js'
import { releaseClaims } from './claims.js'

const { scopes } = parseAuthorizationServerConfig({
  issuer: 'https://as.example',
  keys: { encryptionKey: { env: 'K' } },
  scopes: {
    'orders:read': {
      claims: ['customer_id'],
      audiences: { 'https://billing.example': ['customer_id', 'billing_account'] },
    },
    profile: { claims: ['name', 'sub', 'iss'] },
  },
})
const attributes = { customer_id: 'c-1', billing_account: 'b-9', name: 'Alice', role: 'admin' }

describe('claims released by scopes', () => {
  it('releases only what the granted scopes name, never reserved claims', () => {
    expect(releaseClaims(['orders:read'], attributes, scopes)).toEqual({ customer_id: 'c-1' })
    expect(releaseClaims(['profile'], { ...attributes, sub: 'evil', iss: 'evil' }, scopes)).toEqual(
      { name: 'Alice' },
    )
    expect(releaseClaims([], attributes, scopes)).toEqual({})
    expect(releaseClaims(['unknown'], attributes, scopes)).toEqual({})
  })

  it('uses the audience-specific list in access tokens for that audience', () => {
    expect(releaseClaims(['orders:read'], attributes, scopes, ['https://billing.example'])).toEqual(
      {
        customer_id: 'c-1',
        billing_account: 'b-9',
      },
    )
    expect(releaseClaims(['orders:read'], attributes, scopes, ['https://orders.example'])).toEqual({
      customer_id: 'c-1',
    })
  })
})
