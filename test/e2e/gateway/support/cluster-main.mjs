// Entry module for the cluster e2e test: runs `startGatewayCluster` from the built package, in
// both the primary and the workers (plain JavaScript: node runs it without a TypeScript loader).
import { loadGatewayConfig, startGatewayCluster } from '@gatehouse/gateway'

const [configPath, workers] = process.argv.slice(2)
const handle = await startGatewayCluster({
  workers: Number(workers),
  loadConfig: () => loadGatewayConfig(configPath, { env: process.env }),
})
if (handle.role === 'primary') {
  // Stands in for an embedded authorization server, one command per stdin line:
  // `revoke <token hash>` or `split <signature hash> <header.payload>`.
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (text) => {
    for (const line of text.split('\n').filter(Boolean)) {
      const [command, key, value] = line.split(' ')
      const done =
        command === 'split'
          ? handle.state.splitTokens.put(key, value, 300)
          : handle.state.revocations.publish({ tokenHash: key })
      done.then(() => process.stdout.write(`${JSON.stringify({ done: line })}\n`))
    }
  })
  process.stdout.write(`${JSON.stringify({ ready: true, adminUrl: handle.adminUrl })}\n`)
  process.on('SIGTERM', () => {
    handle.close().then(() => process.exit(0))
  })
} else {
  process.on('SIGTERM', () => {
    handle.close().then(() => process.exit(0))
  })
}
