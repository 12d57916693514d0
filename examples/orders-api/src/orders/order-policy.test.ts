import type { VerifiedToken } from '@gatehouse/jwt'
import { describe, expect, it } from 'vitest'
import { demoOrders } from './demo-orders.js'
import { customerIdOf, type OrderAction, orderPolicy } from './order-policy.js'
import { viewOrder } from './order-view.js'

function tokenWith(
  claims: Record<string, unknown>,
  scope = 'orders:read orders:write',
): VerifiedToken {
  return {
    header: { alg: 'ES256', typ: 'at+jwt' },
    claims: {
      iss: 'https://issuer',
      aud: 'urn:gatehouse:api:orders',
      exp: 2_000_000_000,
      ...claims,
    },
    scopes: new Set(scope.split(' ').filter(Boolean)),
    subject: 'someone',
    clientId: 'client',
    tokenId: 'jti',
    expiresAt: 2_000_000_000,
  }
}

const [alicesOrder] = demoOrders()
if (alicesOrder === undefined) throw new Error('no demo orders')
const alice = tokenWith({ role: 'customer', customer_id: 'c-1001' })
const bob = tokenWith({ role: 'customer', customer_id: 'c-2002' })
const admin = tokenWith({ role: 'admin' })

describe('the orders policy table', () => {
  it('gives the owner read, update and cancel, and nothing internal', () => {
    expect(orderPolicy.allowedActions(alice, alicesOrder).sort()).toEqual(
      ['cancel', 'create', 'list', 'read', 'update'].sort(),
    )
  })

  it('gives another customer nothing on the order', () => {
    expect(orderPolicy.allowedActions(bob, alicesOrder)).toEqual([])
  })

  it('gives an admin read, listAll and readInternal, and no write action', () => {
    expect(orderPolicy.allowedActions(admin, alicesOrder).sort()).toEqual(
      ['listAll', 'read', 'readInternal'].sort(),
    )
  })

  it('denies every action to a token without scopes, even the owner', () => {
    expect(
      orderPolicy.allowedActions(
        tokenWith({ role: 'customer', customer_id: 'c-1001' }, ''),
        alicesOrder,
      ),
    ).toEqual([])
    expect(orderPolicy.allowedActions(tokenWith({ role: 'admin' }, ''), alicesOrder)).toEqual([])
  })

  it('denies an action the table does not have', () => {
    expect(orderPolicy.allows('delete' as OrderAction, admin, alicesOrder)).toBe(false)
  })

  it('denies when the owner is undefined, even for a token whose customer_id is missing too', () => {
    const noCustomer = tokenWith({ role: 'customer' })
    for (const action of ['read', 'update', 'cancel', 'create', 'list'] as const) {
      expect(orderPolicy.allows(action, noCustomer, { customerId: undefined })).toBe(false)
    }
  })

  it('denies a customer_id inherited from the prototype chain', () => {
    const claims = Object.create({ customer_id: 'c-1001' }) as Record<string, unknown>
    claims.role = 'customer'
    const inherited = { ...tokenWith({}), claims: claims as VerifiedToken['claims'] }
    expect(orderPolicy.allows('read', inherited, alicesOrder)).toBe(false)
  })

  it('describes every rule for reviews', () => {
    expect(Object.keys(orderPolicy.describe()).sort()).toEqual(
      ['cancel', 'create', 'list', 'listAll', 'read', 'readInternal', 'update'].sort(),
    )
  })
})

describe('customerIdOf', () => {
  it('takes a well-formed string claim only', () => {
    expect(customerIdOf(alice)).toBe('c-1001')
    for (const value of [
      1001,
      ['c-1001'],
      { id: 'c-1001' },
      '',
      'c 1001',
      'x'.repeat(65),
      null,
      true,
    ]) {
      expect(customerIdOf(tokenWith({ customer_id: value }))).toBeUndefined()
    }
  })
})

describe('viewOrder', () => {
  it('shows customers an allow-list of fields and admins everything', () => {
    expect(viewOrder(alicesOrder, alice)).not.toHaveProperty('internalNotes')
    expect(viewOrder(alicesOrder, alice)).not.toHaveProperty('fraudScore')
    expect(viewOrder(alicesOrder, admin)).toEqual(alicesOrder)
  })

  it('hides a field added to the stored order until someone decides who may see it', () => {
    const withSecret = { ...alicesOrder, paymentToken: 'tok_123' }
    expect(viewOrder(withSecret, alice)).not.toHaveProperty('paymentToken')
    expect(viewOrder(withSecret, admin)).not.toHaveProperty('paymentToken')
  })

  it('hides internal fields from an admin token without orders:read', () => {
    expect(viewOrder(alicesOrder, tokenWith({ role: 'admin' }, 'orders:write'))).not.toHaveProperty(
      'fraudScore',
    )
  })
})
