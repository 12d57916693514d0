import { describe, expectTypeOf, it } from 'vitest'
import {
  type AnyBearerError,
  claim,
  createJwtValidator,
  definePolicy,
  type JwtValidator,
  type JwtValidatorOptions,
  type Policy,
  type ValidationError,
  type VerifiedToken,
} from './index.js'

/** Type tests: checked by `tsc -p tsconfig.tests.json` in `npm test` (expectTypeOf is a no-op at run time). */
describe('public types of @gatehouse/jwt', () => {
  it('createJwtValidator returns a validator resolving to a readonly VerifiedToken', () => {
    expectTypeOf(createJwtValidator).returns.toEqualTypeOf<JwtValidator>()
    expectTypeOf<JwtValidator['validate']>().returns.resolves.toEqualTypeOf<VerifiedToken>()
    expectTypeOf<VerifiedToken['scopes']>().toEqualTypeOf<ReadonlySet<string>>()
    expectTypeOf<VerifiedToken['claims']['exp']>().toEqualTypeOf<number>()
  })

  it('requires issuer and audience', () => {
    // @ts-expect-error issuer and audience are required
    expectTypeOf(createJwtValidator).toBeCallableWith({ jwksUri: 'https://issuer.test/jwks' })
    // @ts-expect-error none is not an algorithm the options accept
    const algorithms: JwtValidatorOptions['algorithms'] = ['none']
    expectTypeOf(algorithms).not.toBeAny()
  })

  it('error unions narrow on code', () => {
    const narrow = (error: AnyBearerError) => {
      if (error.code === 'insufficient_scope')
        expectTypeOf(error.requiredScope).toEqualTypeOf<string>()
    }
    expectTypeOf(narrow).toBeFunction()
    expectTypeOf<ValidationError['status']>().toEqualTypeOf<401 | 503>()
  })

  it('policies are typed by their actions and context', () => {
    const policy = definePolicy({
      read: claim('customer_id').equals((order: { owner: string }) => order.owner),
    })
    expectTypeOf(policy).toEqualTypeOf<Policy<{ owner: string }, 'read'>>()
    // @ts-expect-error unknown action
    expectTypeOf(policy.allows).toBeCallableWith('write', {} as VerifiedToken, { owner: 'x' })
  })
})
