import { formatPath } from '@gatehouse/gateway'
import type { Finding } from '../findings.js'
import { SEVERITIES } from '../rules.js'

/** The machine report: stable field names (version 1), one object per finding. */
export function formatJson(findings: readonly Finding[], failOn: string): string {
  const summary = Object.fromEntries(
    SEVERITIES.map((severity) => [
      severity,
      findings.filter((f) => f.severity === severity).length,
    ]),
  )
  const report = {
    version: 1,
    failOn,
    summary,
    findings: findings.map((finding) => ({
      id: finding.ruleId,
      severity: finding.severity,
      title: finding.title,
      message: finding.message,
      fix: finding.fix,
      location: {
        file: finding.location.file,
        keyPath: formatPath(finding.location.keyPath),
        line: finding.location.line ?? null,
        column: finding.location.column ?? null,
      },
    })),
  }
  return `${JSON.stringify(report, null, 2)}\n`
}
