import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import type { CpuPlan } from './types.js'

/**
 * Splits the cores between the load generator and the servers under test, so neither steals
 * the other's CPU: the load generator gets the first core, the servers all the others.
 */
export function planCores(): CpuPlan {
  const cores = availableParallelism()
  if (!hasTaskset()) {
    return {
      loadGeneratorCores: undefined,
      serverCores: undefined,
      note: 'taskset not found: load generator and servers are not pinned',
    }
  }
  if (cores < 2) {
    return {
      loadGeneratorCores: undefined,
      serverCores: undefined,
      note: 'one core only: load generator and servers share it',
    }
  }
  const serverCores = cores === 2 ? '1' : `1-${cores - 1}`
  return {
    loadGeneratorCores: '0',
    serverCores,
    note: `load generator pinned to core 0, servers to core(s) ${serverCores} (taskset)`,
  }
}

function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0
}

/** The command line that runs `command` on `cores` (or unpinned when `cores` is undefined). */
export function pinned(
  cores: string | undefined,
  command: string,
  args: readonly string[],
): { command: string; args: string[] } {
  if (cores === undefined) return { command, args: [...args] }
  return { command: 'taskset', args: ['-c', cores, command, ...args] }
}
