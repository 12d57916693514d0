import { formatPath } from '@gatehouse/gateway'
import type { Finding } from '../findings.js'
import { SEVERITIES } from '../rules.js'

/**
 * The human report: one block per finding (severity, id, where, what, fix) and a summary line.
 * Plain padded text rather than a table library: the rows are short and the message and fix
 * wrap better on their own lines than in fixed-width cells.
 */
export function formatTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'gatehouse audit: no findings\n'
  const lines: string[] = []
  const idWidth = Math.max(...findings.map((finding) => finding.ruleId.length))
  for (const finding of findings) {
    const severity = finding.severity.toUpperCase().padEnd(8)
    lines.push(`${severity} ${finding.ruleId.padEnd(idWidth)}  ${where(finding)}`)
    lines.push(`${' '.repeat(9 + idWidth)}  ${finding.title}: ${finding.message}`)
    lines.push(`${' '.repeat(9 + idWidth)}  fix: ${finding.fix}`)
    lines.push('')
  }
  const counts = SEVERITIES.toReversed()
    .map((severity) => [severity, findings.filter((f) => f.severity === severity).length] as const)
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`)
  lines.push(`${findings.length} finding${findings.length === 1 ? '' : 's'}: ${counts.join(', ')}`)
  return `${lines.join('\n')}\n`
}

export function where(finding: Finding): string {
  const { file, keyPath, line, column } = finding.location
  const position = line === undefined ? file : `${file}:${line}:${column}`
  return `${position} ${formatPath(keyPath)}`
}
