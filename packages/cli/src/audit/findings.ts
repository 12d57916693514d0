import type { GatehouseConfig } from '../config/schema.js'
import type { KeyPath, YamlSource } from '../config/yaml-source.js'
import type { OpenApiDocument } from './openapi-document.js'
import { type RuleId, ruleOf, type Severity, severityRank } from './rules.js'

export interface FindingLocation {
  /** The file as given on the command line (the config or an OpenAPI document). */
  readonly file: string
  readonly keyPath: KeyPath
  readonly line?: number
  readonly column?: number
}

export interface Finding {
  readonly ruleId: RuleId
  readonly severity: Severity
  readonly title: string
  /** This occurrence, naming the route, client or setting. */
  readonly message: string
  readonly fix: string
  readonly location: FindingLocation
}

/** What every check receives: the validated config, where it was written, and the OpenAPI docs. */
export interface AuditContext {
  readonly config: GatehouseConfig
  /** The document as written, for settings a component's schema may not have in every version. */
  readonly input: unknown
  readonly source: YamlSource
  readonly openapi: readonly OpenApiDocument[]
  /** Records a finding at `keyPath` of `where` (default: the configuration file). */
  report(ruleId: RuleId, keyPath: KeyPath, message: string, where?: YamlSource): void
}

export type AuditCheck = (context: AuditContext) => void

export function createFindingCollector(source: YamlSource): {
  readonly report: AuditContext['report']
  readonly findings: Finding[]
} {
  const findings: Finding[] = []
  return {
    findings,
    report(ruleId, keyPath, message, where = source) {
      const rule = ruleOf(ruleId)
      const at = where.locate(keyPath)
      findings.push({
        ruleId,
        severity: rule.severity,
        title: rule.title,
        message,
        fix: rule.fix,
        location: { file: where.file, keyPath, ...(at ?? {}) },
      })
    },
  }
}

/** Most severe first, then by file position, so output is stable from run to run. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.location.file.localeCompare(b.location.file) ||
      (a.location.line ?? 0) - (b.location.line ?? 0) ||
      (a.location.column ?? 0) - (b.location.column ?? 0) ||
      a.ruleId.localeCompare(b.ruleId),
  )
}
