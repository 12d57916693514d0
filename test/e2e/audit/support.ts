import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Document, parseDocument } from 'yaml'
import { runAudit } from '../../../packages/cli/src/commands/audit.js'

/** Paths of the fixtures (as a user would type them on the command line). */
export const CLEAN_CONFIG = fileURLToPath(new URL('./fixtures/clean.yaml', import.meta.url))
export const ORDERS_OPENAPI = fileURLToPath(
  new URL('./fixtures/orders-openapi.yaml', import.meta.url),
)

export interface AuditRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface JsonReport {
  readonly version: number
  readonly summary: Record<string, number>
  readonly findings: readonly {
    readonly id: string
    readonly severity: string
    readonly message: string
    readonly fix: string
    readonly location: {
      readonly file: string
      readonly keyPath: string
      readonly line: number | null
      readonly column: number | null
    }
  }[]
}

/** A scratch folder for configs and OpenAPI documents; `gatehouse audit` runs in it. */
export async function createWorkspace() {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-'))
  return {
    dir,
    path: (name: string) => join(dir, name),
    async write(name: string, text: string): Promise<string> {
      const file = join(dir, name)
      await writeFile(file, text)
      return file
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

/** The clean configuration, changed by `mutate` through the YAML document API. */
export async function cleanConfigWith(mutate: (doc: Document) => void = () => {}): Promise<string> {
  const doc = parseDocument(await readFile(CLEAN_CONFIG, 'utf8'))
  mutate(doc)
  return doc.toString()
}

export async function audit(argv: readonly string[]): Promise<AuditRun> {
  let stdout = ''
  let stderr = ''
  const code = await runAudit(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  })
  return { code, stdout, stderr }
}

export async function auditJson(argv: readonly string[]): Promise<AuditRun & JsonReport> {
  const run = await audit([...argv, '--format', 'json'])
  if (run.code === 2) throw new Error(`audit refused the input: ${run.stderr}`)
  return { ...run, ...(JSON.parse(run.stdout) as JsonReport) }
}
