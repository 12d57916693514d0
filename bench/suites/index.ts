import type { Suite } from '../harness/types.js'
import { authorizationServerSuite } from './authorization-server.js'
import { distributedSuite } from './distributed.js'
import { gatewaySuite } from './gateway.js'
import { httpBaselineSuite } from './http-baseline.js'
import { jwtSuite } from './jwt.js'

/** Every suite `npm run bench` runs, in order. A new suite is one module and one line here. */
export const SUITES: readonly Suite[] = [
  jwtSuite,
  httpBaselineSuite,
  authorizationServerSuite,
  gatewaySuite,
  distributedSuite,
]
