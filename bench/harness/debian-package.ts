import { spawnSync } from 'node:child_process'

export interface DebianTool {
  /** The command to look for, e.g. `wrk`, `haproxy`, `nginx`. */
  readonly command: string
  /** Arguments that make it print its version and exit (any exit status counts as present). */
  readonly versionArgs: readonly string[]
  /** The Debian package that provides it. */
  readonly debianPackage: string
}

/**
 * Makes sure a tool from Debian is installed: the benchmarks compare against C programs
 * (wrk, HAProxy, nginx) that a user would pick instead, and install them with apt-get when they
 * are missing, saying so. Returns false when the tool cannot be had (no root, no apt, offline).
 */
export function ensureDebianTool(tool: DebianTool, log: (line: string) => void): boolean {
  if (isInstalled(tool)) return true
  log(
    `${tool.command} is not installed: installing it with \`apt-get install -y ${tool.debianPackage}\``,
  )
  const install = spawnSync('apt-get', ['install', '-y', '-q', tool.debianPackage], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  const installed = install.status === 0 && isInstalled(tool)
  log(installed ? `${tool.command} installed` : `${tool.command} could not be installed`)
  return installed
}

function isInstalled(tool: DebianTool): boolean {
  // `wrk --version` exits 1 after printing its version: only a missing binary is an error.
  const probe = spawnSync(tool.command, [...tool.versionArgs], { stdio: 'ignore' })
  return probe.error === undefined && probe.status !== null
}
