import { describe, expect, it } from 'vitest'
import { AccessDenied, InsufficientScope } from '../errors.js'
import type { VerifiedToken } from '../types.js'
import { allOf, anyOf, claim, definePolicy, scope } from './claims.js'
import { hasScopes, requireScopes } from './scope.js'

function token(claims: Record<string, unknown>, scopes: string[] = []): VerifiedToken {
  return {
    header: { alg: 'ES256' },
    claims: { iss: 'i', aud: 'a', exp: 0, ...claims },
    scopes: new Set(scopes),
    subject: claims.sub as string | undefined,
    clientId: undefined,
    tokenId: undefined,
    expiresAt: 0,
  }
}

interface Order {
  readonly customerId: string | undefined
}

const orders = definePolicy({
  read: anyOf<Order>(
    claim('role').oneOf('admin'),
    allOf(
      scope('orders:read'),
      claim('customer_id').equals((order: Order) => order.customerId),
    ),
  ),
  cancel: allOf<Order>(
    scope('orders:write'),
    claim('customer_id').equals((order: Order) => order.customerId),
  ),
})

describe('requireScopes', () => {
  it('passes when every scope is granted and names all required scopes when not', () => {
    const t = token({}, ['orders:read', 'profile'])
    expect(hasScopes(t, 'orders:read')).toBe(true)
    expect(() => requireScopes(t, 'orders:read', 'profile')).not.toThrow()
    const error = (() => {
      try {
        requireScopes(t, 'orders:read', 'orders:write')
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(InsufficientScope)
    expect((error as InsufficientScope).requiredScope).toBe('orders:read orders:write')
    expect((error as InsufficientScope).status).toBe(403)
    expect(() => requireScopes(t)).toThrow(TypeError)
  })
})

describe('definePolicy (deny by default)', () => {
  const own = { customerId: 'c-1' }
  const other = { customerId: 'c-2' }

  it('lets a customer read their own order and nobody else’s (BOLA)', () => {
    const customer = token({ customer_id: 'c-1' }, ['orders:read'])
    expect(orders.allows('read', customer, own)).toBe(true)
    expect(orders.allows('read', customer, other)).toBe(false)
    expect(() => orders.assert('read', customer, other)).toThrow(AccessDenied)
  })

  it('lets an admin role read every order but not cancel without the rule allowing it', () => {
    const admin = token({ role: 'admin' }, ['orders:write'])
    expect(orders.allows('read', admin, other)).toBe(true)
    expect(orders.allows('cancel', admin, other)).toBe(false)
  })

  it('denies when the owner is unknown: undefined never equals a missing claim', () => {
    expect(orders.allows('read', token({}, ['orders:read']), { customerId: undefined })).toBe(false)
  })

  it('denies claims of the wrong type, and claims from the prototype chain', () => {
    expect(orders.allows('read', token({ customer_id: ['c-1'] }, ['orders:read']), own)).toBe(false)
    expect(orders.allows('read', token({ role: ['admin'] }), own)).toBe(false)
    const proto = token({}, ['orders:read'])
    expect(claim('constructor').present().test(proto, undefined)).toBe(false)
  })

  it('denies actions it has no rule for, and rules that throw', () => {
    const customer = token({ customer_id: 'c-1' }, ['orders:read'])
    expect(orders.allows('delete' as 'read', customer, own)).toBe(false)
    const brittle = definePolicy<Order | undefined, 'read'>({
      read: claim('customer_id').equals((order: Order | undefined) => (order as Order).customerId),
    })
    expect(brittle.allows('read', customer, undefined)).toBe(false)
    expect(() => brittle.assert('read', customer, undefined)).toThrow(AccessDenied)
  })

  it('lists the actions a token may take, and describes its rules for review', () => {
    const customer = token({ customer_id: 'c-1' }, ['orders:read', 'orders:write'])
    expect(orders.allowedActions(customer, own)).toEqual(['read', 'cancel'])
    expect(orders.allowedActions(customer, other)).toEqual([])
    expect(orders.describe().read).toMatch(/claim role is one of admin/)
  })

  it('supports array claims with includes()', () => {
    const groups = claim('groups').includes('ops')
    expect(groups.test(token({ groups: ['dev', 'ops'] }), undefined)).toBe(true)
    expect(groups.test(token({ groups: 'ops' }), undefined)).toBe(false)
  })

  it('refuses empty rule combinations at definition time', () => {
    expect(() => anyOf()).toThrow(TypeError)
    expect(() => allOf()).toThrow(TypeError)
    expect(() => scope()).toThrow(TypeError)
    expect(() => claim('role').oneOf()).toThrow(TypeError)
    expect(() => definePolicy({ read: undefined as never })).toThrow(TypeError)
  })
})
