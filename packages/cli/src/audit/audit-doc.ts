import { AUDIT_RULES, SEVERITIES } from './rules.js'

/**
 * Renders `docs/audit.md` from the rule registry; `audit-doc.test.ts` fails when the file is stale
 * and checks ids and severities in both directions. Regenerate with
 * `npx vitest run -u packages/cli/src/audit/audit-doc.test.ts`.
 */
export function renderAuditDoc(): string {
  const out = [
    '# `gatehouse audit`',
    '',
    '<!-- Generated from packages/cli/src/audit/rules.ts by packages/cli/src/audit/audit-doc.ts.',
    '     Do not edit: npx vitest run -u packages/cli/src/audit/audit-doc.test.ts -->',
    '',
    '```',
    'gatehouse audit <config.yaml> [--openapi [upstream=]file ...] [--format table|json|sarif]',
    '                [--fail-on low|medium|high|critical]',
    '```',
    '',
    'Reads a Gatehouse configuration (docs/configuration.md), and optionally OpenAPI 3 documents',
    'of the APIs behind the gateway, and reports where the configuration departs from the',
    'practices below. Each finding has a stable id, a severity, where it is (file, line, column',
    'and key path) and how to fix it.',
    '',
    '- `--format table` (default) for people, `json` for scripts, `sarif` (SARIF 2.1.0) for CI',
    '  code-scanning dashboards.',
    '- `--fail-on` (default `high`): exit code 1 when a finding is at or above that severity, else 0.',
    '  Exit code 2 is a usage or configuration error; the message names the key path and its line.',
    '- `--openapi file` ties the document to the gateway upstream whose URL has the origin of one of',
    '  its `servers` (the server path is the base of its paths); `--openapi orders=file.yaml` names',
    '  the upstream instead. Each operation must be forwarded by a route of that upstream for its',
    '  method, after the route’s `rewrite`; a path parameter is routed only by a `*` or `**` segment.',
    '',
    'Some practices need no rule because Gatehouse does not let them be configured away: PKCE with',
    'S256 is required for every client, refresh tokens rotate on every use with reuse detection,',
    'HS* and `none` signatures, TLS below 1.2, plain-http JWKS and introspection endpoints, `*` or',
    '`http:` CORS origins at the token handler and secrets written as values outside `clients` are',
    'refused by the schema (exit code 2).',
    '',
    '## Rules',
    '',
    '| id | severity | title |',
    '| --- | --- | --- |',
    ...AUDIT_RULES.map(
      (rule) => `| [${rule.id}](#${rule.id.toLowerCase()}) | ${rule.severity} | ${rule.title} |`,
    ),
    '',
    `Severities, from least to most severe: ${SEVERITIES.join(', ')}. In SARIF, critical and high`,
    'are `error`, medium `warning`, low `note`.',
    '',
  ]
  for (const rule of AUDIT_RULES) {
    out.push(
      `### ${rule.id}`,
      '',
      `**${rule.title}** — severity: **${rule.severity}**`,
      '',
      `Why: ${rule.rationale}`,
      '',
      `Fix: ${rule.fix}`,
      '',
    )
  }
  return out.join('\n')
}
