import type { LoadedGatehouseConfig } from '../config/load.js'
import { checkAlgorithms } from './checks/algorithms.js'
import { checkAuthorizationServer } from './checks/authorization-server.js'
import { checkClients } from './checks/clients.js'
import { checkGatewayNetwork } from './checks/gateway-network.js'
import { checkOpenApiCoverage } from './checks/openapi.js'
import { checkRouteOverlaps, checkRoutes } from './checks/routes.js'
import { checkBrowserOrigins, checkTokenHandler } from './checks/token-handler.js'
import { type AuditCheck, createFindingCollector, type Finding, sortFindings } from './findings.js'
import type { OpenApiDocument } from './openapi-document.js'

/** The checks, in the order a reader meets the config: routes, network, tokens, clients. */
const CHECKS: readonly AuditCheck[] = [
  checkRoutes,
  checkRouteOverlaps,
  checkOpenApiCoverage,
  checkGatewayNetwork,
  checkAuthorizationServer,
  checkAlgorithms,
  checkClients,
  checkTokenHandler,
  checkBrowserOrigins,
]

/** Runs every check over a validated configuration; findings sorted most severe first. */
export function auditConfiguration(
  loaded: LoadedGatehouseConfig,
  openapi: readonly OpenApiDocument[] = [],
): Finding[] {
  const collector = createFindingCollector(loaded.source)
  const context = {
    config: loaded.settings,
    input: loaded.input,
    source: loaded.source,
    openapi,
    report: collector.report,
  }
  for (const check of CHECKS) check(context)
  return sortFindings(collector.findings)
}
