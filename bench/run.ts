/**
 * `npm run bench [-- --suite jwt] [-- --quick]`: runs the suites, prints a table per suite and
 * writes `bench/results/latest.json` (see harness/report.ts for its shape).
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { planCores } from './harness/cpu.js'
import { chooseLoadGenerator } from './harness/load-generator.js'
import { formatTable, type ResultRecord, toRecord, writeResults } from './harness/report.js'
import type { LoadGeneratorKind, SuiteContext } from './harness/types.js'
import { SUITES } from './suites/index.js'

const USAGE = `usage: npm run bench -- [--suite <name>]... [--quick] [--rounds N] [--load-generator wrk|autocannon] [--out <file>]
suites: ${SUITES.map((suite) => suite.name).join(', ')}
GATEHOUSE_BENCH_QUICK=1 is the same as --quick.`

const RESULTS_FILE = fileURLToPath(new URL('../results/latest.json', import.meta.url))

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      'load-generator': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const quick = values.quick || process.env.GATEHOUSE_BENCH_QUICK === '1'
  const wanted = values.suite ?? SUITES.map((suite) => suite.name)
  const unknown = wanted.filter((name) => !SUITES.some((suite) => suite.name === name))
  if (unknown.length > 0) throw new UsageError(`unknown suite(s): ${unknown.join(', ')}`)
  const rounds = values.rounds === undefined ? (quick ? 5 : 7) : Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError('--rounds must be ≥ 1')
  const requestedGenerator = values['load-generator']
  if (requestedGenerator !== undefined && !isLoadGenerator(requestedGenerator)) {
    throw new UsageError('--load-generator must be wrk or autocannon')
  }
  const log = (line: string) => process.stderr.write(`${line}\n`)
  const cpu = planCores()
  const selected = SUITES.filter((suite) => wanted.includes(suite.name))
  const needsHttp = selected.some((suite) => suite.usesHttpLoad === true)
  const context: SuiteContext = {
    quick,
    rounds,
    warmupRounds: 1,
    cpu,
    loadGenerator: needsHttp ? chooseLoadGenerator(requestedGenerator, log) : 'wrk',
    log,
  }
  log(`gatehouse bench: ${quick ? 'QUICK smoke run (do not quote these numbers)' : 'full run'}`)
  log(`${rounds} measured rounds after ${context.warmupRounds} warm-up round, interleaved`)
  log(`cpu: ${cpu.note}`)

  const records: ResultRecord[] = []
  for (const suite of selected) {
    log(`\n# suite ${suite.name}: ${suite.description}`)
    const results = await suite.run(context)
    process.stdout.write(formatTable(`${suite.name}${quick ? ' (quick)' : ''}`, results))
    records.push(...results.map(toRecord))
  }
  const out = values.out ?? RESULTS_FILE
  await writeResults(out, records)
  log(`\nwrote ${records.length} results to ${out}`)
}

function isLoadGenerator(value: string): value is LoadGeneratorKind {
  return value === 'wrk' || value === 'autocannon'
}

class UsageError extends Error {}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${USAGE}`)
  } else {
    console.error(error)
  }
  process.exitCode = 1
})
