import { AccessDenied } from '../errors.js'
import type { VerifiedToken } from '../types.js'

/**
 * Deny-by-default, claims-based authorization rules.
 *
 * An API writes its rules once, as a table from action to rule:
 *
 *   const orders = definePolicy({
 *     read: anyOf(claim('role').oneOf('admin'), claim('customer_id').equals((order: Order) => order.customerId)),
 *     cancel: allOf(scope('orders:write'), claim('customer_id').equals((order: Order) => order.customerId)),
 *   })
 *   orders.assert('read', token, order) // throws AccessDenied (403) unless a rule allows it
 *
 * Anything the table does not allow is denied: an action with no rule, a missing claim, a claim
 * of the wrong type, an expected value that is undefined (so `undefined === undefined` can never
 * grant access), or a rule that throws.
 */
export interface Rule<Context = unknown> {
  /** A readable description of the rule, for logs and docs (never sent to clients). */
  readonly description: string
  readonly test: (token: VerifiedToken, context: Context) => boolean
}

type ClaimValue = string | number | boolean
type Expected<Context> = ClaimValue | ((context: Context) => unknown)

function isClaimValue(value: unknown): value is ClaimValue {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}

function resolve<Context>(expected: Expected<Context>, context: Context): ClaimValue | undefined {
  const value = typeof expected === 'function' ? expected(context) : expected
  return isClaimValue(value) ? value : undefined
}

export interface ClaimRules {
  /** The claim equals a value, or a value taken from the context (e.g. the resource's owner). */
  equals<Context = unknown>(expected: Expected<Context>): Rule<Context>
  /** The claim is one of these values. */
  oneOf(...values: readonly ClaimValue[]): Rule
  /** The claim is an array that contains the value (e.g. `groups`). */
  includes<Context = unknown>(expected: Expected<Context>): Rule<Context>
  /** The claim is present, as a string, number or boolean. */
  present(): Rule
}

/** Rules about one claim of the verified token. */
export function claim(name: string): ClaimRules {
  if (typeof name !== 'string' || name === '') throw new TypeError('claim() needs a claim name')
  const read = (token: VerifiedToken): unknown =>
    Object.hasOwn(token.claims, name) ? token.claims[name] : undefined
  return {
    equals(expected) {
      return {
        description: `claim ${name} equals ${describe(expected)}`,
        test(token, context) {
          const actual = read(token)
          const wanted = resolve(expected, context)
          return wanted !== undefined && isClaimValue(actual) && actual === wanted
        },
      }
    },
    oneOf(...values) {
      if (values.length === 0)
        throw new TypeError(`claim(${name}).oneOf() needs at least one value`)
      const allowed = new Set<unknown>(values)
      return {
        description: `claim ${name} is one of ${values.map(String).join(', ')}`,
        test: (token) => {
          const actual = read(token)
          return isClaimValue(actual) && allowed.has(actual)
        },
      }
    },
    includes(expected) {
      return {
        description: `claim ${name} includes ${describe(expected)}`,
        test(token, context) {
          const actual = read(token)
          const wanted = resolve(expected, context)
          return wanted !== undefined && Array.isArray(actual) && actual.includes(wanted)
        },
      }
    },
    present() {
      return { description: `claim ${name} is present`, test: (token) => isClaimValue(read(token)) }
    },
  }
}

/** The token carries every one of these scopes. */
export function scope(...scopes: readonly string[]): Rule {
  if (scopes.length === 0) throw new TypeError('scope() needs at least one scope')
  return {
    description: `scope ${scopes.join(' ')}`,
    test: (token) => scopes.every((wanted) => token.scopes.has(wanted)),
  }
}

/** Every rule holds. */
export function allOf<Context>(...rules: readonly Rule<Context>[]): Rule<Context> {
  if (rules.length === 0) throw new TypeError('allOf() needs at least one rule')
  return {
    description: `all of (${rules.map((rule) => rule.description).join('; ')})`,
    test: (token, context) => rules.every((rule) => rule.test(token, context)),
  }
}

/** At least one rule holds. */
export function anyOf<Context>(...rules: readonly Rule<Context>[]): Rule<Context> {
  if (rules.length === 0) throw new TypeError('anyOf() needs at least one rule')
  return {
    description: `any of (${rules.map((rule) => rule.description).join('; ')})`,
    test: (token, context) => rules.some((rule) => rule.test(token, context)),
  }
}

export interface Policy<Context, Action extends string> {
  /** True only when the action's rule holds; false for unknown actions and failing rules. */
  allows(action: Action, token: VerifiedToken, context: Context): boolean
  /** Throws `AccessDenied` (403) unless `allows()`. */
  assert(action: Action, token: VerifiedToken, context: Context): void
  /** The actions this token may take on this resource (e.g. to shape a response). */
  allowedActions(token: VerifiedToken, context: Context): Action[]
  /** Each action with its rule's description, for docs and reviews. */
  describe(): Record<Action, string>
}

/** A deny-by-default table from action name to rule. */
export function definePolicy<Context, Action extends string>(
  rules: { readonly [A in Action]: Rule<Context> },
): Policy<Context, Action> {
  const table = new Map<string, Rule<Context>>(Object.entries(rules) as [string, Rule<Context>][])
  for (const [action, rule] of table) {
    if (typeof rule?.test !== 'function') throw new TypeError(`policy action ${action} has no rule`)
  }
  function evaluate(
    action: string,
    token: VerifiedToken,
    context: Context,
  ): { allowed: boolean; cause?: unknown } {
    const rule = table.get(action)
    if (rule === undefined) return { allowed: false }
    try {
      return { allowed: rule.test(token, context) === true }
    } catch (cause) {
      return { allowed: false, cause }
    }
  }
  return {
    allows: (action, token, context) => evaluate(action, token, context).allowed,
    assert(action, token, context) {
      const { allowed, cause } = evaluate(action, token, context)
      if (!allowed) throw new AccessDenied(action, cause === undefined ? {} : { cause })
    },
    allowedActions: (token, context) =>
      [...table.keys()].filter((action) => evaluate(action, token, context).allowed) as Action[],
    describe: () =>
      Object.fromEntries([...table].map(([action, rule]) => [action, rule.description])) as Record<
        Action,
        string
      >,
  }
}

function describe(expected: unknown): string {
  return typeof expected === 'function' ? 'a value from the resource' : String(expected)
}
