import { mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Spread, SuiteResult, Target } from './types.js'

/**
 * One entry of `bench/results/latest.json`. Other tooling reads this file: the shape is a
 * contract and stays exactly these six fields.
 */
export interface ResultRecord {
  readonly name: string
  readonly unit: string
  readonly value: number
  readonly baseline: string
  readonly baselineValue: number
  readonly ratio: number
}

export function toRecord(result: SuiteResult): ResultRecord {
  return {
    name: result.name,
    unit: result.unit,
    value: round(result.value.median),
    baseline: result.baseline,
    baselineValue: round(result.baselineValue.median),
    ratio: round(result.value.median / result.baselineValue.median),
  }
}

/** Writes the records atomically (temp file, then rename), so a reader never sees half a file. */
export async function writeResults(path: string, records: readonly ResultRecord[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temporary = path.replace(/\.json$/, '.tmp.json')
  await writeFile(temporary, `${JSON.stringify(records, null, 2)}\n`)
  await rename(temporary, path)
}

export function targetVerdict(
  value: number,
  baselineValue: number,
  target: Target | undefined,
): string {
  if (target === undefined) return ''
  const ratio = value / baselineValue
  const parts: string[] = []
  let met = true
  if (target.atLeast !== undefined) {
    parts.push(`≥ ${target.atLeast}×`)
    met &&= ratio >= target.atLeast
  }
  if (target.atMost !== undefined) {
    parts.push(`≤ ${target.atMost}×`)
    met &&= ratio <= target.atMost
  }
  if (target.maxAdded !== undefined) {
    const added = value - baselineValue
    parts.push(`≤ +${target.maxAdded} added, was ${added >= 0 ? '+' : ''}${formatNumber(added)}`)
    met &&= added <= target.maxAdded
  }
  return `${met ? 'MET' : 'MISSED'} (${parts.join(', ')}, ${target.source})`
}

/** A plain-text table for the terminal: one row per result, median with min–max. */
export function formatTable(title: string, results: readonly SuiteResult[]): string {
  const header = ['result', 'unit', 'value [min–max]', 'baseline', 'value [min–max]', 'ratio']
  header.push('per-round ratio [min–max]', 'target')
  const rows = results.map((result) => [
    result.name,
    result.unit,
    spreadText(result.value),
    result.baseline,
    spreadText(result.baselineValue),
    `${formatNumber(result.value.median / result.baselineValue.median)}×`,
    `${formatNumber(result.pairedRatio.median)}× [${formatNumber(result.pairedRatio.min)}–${formatNumber(result.pairedRatio.max)}]`,
    targetVerdict(result.value.median, result.baselineValue.median, result.target),
  ])
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')
  return [
    `\n== ${title} ==`,
    line(header),
    widths.map((width) => '-'.repeat(width)).join('-|-'),
    ...rows.map(line),
    '',
  ].join('\n')
}

function spreadText(spread: Spread): string {
  return `${formatNumber(spread.median)} [${formatNumber(spread.min)}–${formatNumber(spread.max)}]`
}

export function formatNumber(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US')
  return value.toPrecision(3)
}

/** Rounds for reading without losing what matters: ops/s to 0.1, ratios and ms to 0.0001. */
function round(value: number): number {
  const factor = Math.abs(value) >= 100 ? 10 : 10_000
  return Math.round(value * factor) / factor
}
