import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { formatJson } from '../audit/format/json.js'
import { formatSarif } from '../audit/format/sarif.js'
import { formatTable } from '../audit/format/table.js'
import {
  loadOpenApiDocument,
  type OpenApiDocument,
  OpenApiDocumentError,
} from '../audit/openapi-document.js'
import { SEVERITIES, type Severity, severityRank } from '../audit/rules.js'
import { auditConfiguration } from '../audit/run-audit.js'
import { GatehouseConfigError, loadGatehouseConfig } from '../config/load.js'

export const AUDIT_USAGE = `Usage:
  gatehouse audit <config.yaml> [--openapi [upstream=]file ...] [--format table|json|sarif]
                  [--fail-on low|medium|high|critical]
      Report where a Gatehouse configuration departs from the practices (docs/audit.md).
      --openapi   an OpenAPI 3 document (YAML or JSON) of an upstream API, tied to the upstream
                  whose URL has the origin of one of its servers, or named: orders=orders.yaml
      --format    table (default), json, or sarif (SARIF 2.1.0 for CI)
      --fail-on   exit 1 when a finding is at or above this severity (default: high)
  Exit codes: 0 no finding at or above --fail-on, 1 some, 2 usage or configuration error.
`

const FORMATS = ['table', 'json', 'sarif'] as const
type Format = (typeof FORMATS)[number]

export interface AuditIo {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
}

class AuditUsageError extends Error {}

interface AuditArguments {
  readonly config: string
  readonly openapi: readonly string[]
  readonly format: Format
  readonly failOn: Severity
}

/**
 * `gatehouse audit`: loads the configuration (and OpenAPI documents), runs every rule and prints
 * the findings. Returns the exit code: 0, 1 (a finding at or above --fail-on) or 2 (usage or
 * configuration error, with a message on stderr naming the key path).
 */
export async function runAudit(argv: readonly string[], io: AuditIo): Promise<number> {
  let args: AuditArguments | 'help'
  try {
    args = parseAuditArguments(argv)
  } catch (error) {
    io.stderr.write(`gatehouse audit: ${(error as Error).message}\n\n${AUDIT_USAGE}`)
    return 2
  }
  if (args === 'help') {
    io.stdout.write(AUDIT_USAGE)
    return 0
  }
  try {
    const loaded = await loadGatehouseConfig(args.config)
    const documents: OpenApiDocument[] = []
    for (const argument of args.openapi) {
      documents.push(await loadOpenApiDocument(argument, loaded.settings))
    }
    const findings = auditConfiguration(loaded, documents)
    io.stdout.write(await render(args.format, findings, args.failOn))
    const threshold = severityRank(args.failOn)
    return findings.some((finding) => severityRank(finding.severity) >= threshold) ? 1 : 0
  } catch (error) {
    if (error instanceof GatehouseConfigError || error instanceof OpenApiDocumentError) {
      io.stderr.write(`gatehouse audit: ${error.message}\n`)
      return 2
    }
    throw error
  }
}

function parseAuditArguments(argv: readonly string[]): AuditArguments | 'help' {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    throw new AuditUsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help === true) return 'help'
  if (positionals.length !== 1) {
    throw new AuditUsageError(
      positionals.length === 0 ? 'missing <config>' : 'give exactly one <config>',
    )
  }
  const format = values.format
  if (!isOneOf(FORMATS, format)) throw new AuditUsageError(`--format must be ${FORMATS.join(', ')}`)
  const failOn = values['fail-on']
  if (!isOneOf(SEVERITIES, failOn)) {
    throw new AuditUsageError(`--fail-on must be ${SEVERITIES.join(', ')}`)
  }
  return { config: positionals[0] as string, openapi: values.openapi ?? [], format, failOn }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      openapi: { type: 'string', multiple: true },
      format: { type: 'string', default: 'table' },
      'fail-on': { type: 'string', default: 'high' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  })
}

function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value)
}

async function render(
  format: Format,
  findings: Parameters<typeof formatTable>[0],
  failOn: Severity,
): Promise<string> {
  switch (format) {
    case 'table':
      return formatTable(findings)
    case 'json':
      return formatJson(findings, failOn)
    case 'sarif':
      return formatSarif(findings, await cliVersion())
  }
}

async function cliVersion(): Promise<string> {
  // src/commands and dist/commands are both two levels below the package root.
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8')
  return (JSON.parse(text) as { version: string }).version
}
