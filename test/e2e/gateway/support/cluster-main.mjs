// Entry module for the cluster e2e test: runs `startGatewayCluster` from the built package, in
// both the primary and the workers (plain JavaScript: node runs it without a TypeScript loader).
import { loadGatewayConfig, startGatewayCluster } from '@gatehouse/gateway'

const [configPath, workers] = process.argv.slice(2)
const handle = await startGatewayCluster({
  workers: Number(workers),
  loadConfig: () => loadGatewayConfig(configPath, { env: process.env }),
})
if (handle.role === 'primary') {
  // Stands in for an embedded authorization server: each stdin line is a token hash to revoke.
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (text) => {
    for (const tokenHash of text.split('\n').filter(Boolean)) {
      handle.state.revocations.publish({ tokenHash }).then(() => {
        process.stdout.write(`${JSON.stringify({ revoked: tokenHash })}\n`)
      })
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
