import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import { formatPath } from '@gatehouse/gateway'
import type { Log, ReportingDescriptor, Result } from 'sarif'
import type { Finding } from '../findings.js'
import { AUDIT_RULES, type Severity } from '../rules.js'

const LEVEL: Readonly<Record<Severity, Result.level>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
}

/** GitHub code scanning ranks security results by this CVSS-like score (a string). */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
}

/**
 * SARIF 2.1.0 for CI (GitHub code scanning and the like): every rule of the registry in
 * `tool.driver.rules` (so `ruleIndex` is stable), one result per finding, located by file, line
 * and column, with the config key path as the logical location.
 */
export function formatSarif(findings: readonly Finding[], toolVersion: string): string {
  const rules: ReportingDescriptor[] = AUDIT_RULES.map((rule) => ({
    id: rule.id,
    name: pascalCase(rule.title),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.rationale },
    help: { text: rule.fix, markdown: `**Fix:** ${rule.fix}` },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: { tags: ['security'], 'security-severity': SECURITY_SEVERITY[rule.severity] },
  }))
  const ruleIndex = new Map(AUDIT_RULES.map((rule, index) => [rule.id as string, index]))
  const results: Result[] = findings.map((finding) => ({
    ruleId: finding.ruleId,
    ruleIndex: ruleIndex.get(finding.ruleId) ?? -1,
    level: LEVEL[finding.severity],
    message: { text: `${finding.message}. Fix: ${finding.fix}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(finding.location.file) },
          // SARIF regions are 1-based; a finding without a position points at the file's start.
          region: {
            startLine: finding.location.line ?? 1,
            ...(finding.location.column === undefined
              ? {}
              : { startColumn: finding.location.column }),
          },
        },
        logicalLocations: [
          { fullyQualifiedName: formatPath(finding.location.keyPath), kind: 'member' },
        ],
      },
    ],
  }))
  const log: Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'gatehouse-audit',
            version: toolVersion,
            rules,
          },
        },
        results,
      },
    ],
  }
  return `${JSON.stringify(log, null, 2)}\n`
}

/** A relative path stays relative (resolved against the checkout by the CI); absolute → file URL. */
function artifactUri(file: string): string {
  if (isAbsolute(file)) return pathToFileURL(file).href
  return file.split(/[\\/]/).map(encodeURIComponent).join('/')
}

function pascalCase(title: string): string {
  return title
    .replace(/[^A-Za-z0-9 ]/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`)
    .join('')
}
