import { once } from 'node:events'
import https from 'node:https'
import { type GatewayConfigInput, loadGatewayConfig, reloadOnSignal } from '@gatehouse/gateway'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from './support/https-client.js'
import { type GatewayStack, startGatewayStack } from './support/start-gateway.js'

let stack: GatewayStack

beforeAll(async () => {
  stack = await startGatewayStack()
})
afterAll(async () => {
  await stack?.close()
})

function withExtraRoute(config: GatewayConfigInput): GatewayConfigInput {
  return {
    ...config,
    routes: [
      ...config.routes,
      {
        id: 'added',
        match: { path: '/added/**', methods: ['GET'] },
        upstream: 'echo',
        auth: { method: 'public' },
      },
    ],
  }
}

/** GETs over one keep-alive agent with a single socket, and reports the socket used. */
function viaAgent(
  agent: https.Agent,
  path: string,
): Promise<{ status: number; socketPort: number }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${stack.url}${path}`, { agent, ca: stack.ca }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, socketPort: req.socket?.localPort ?? 0 }),
      )
    })
    req.on('error', reject)
  })
}

describe('configuration reload', () => {
  it('swaps the route table without dropping a keep-alive connection', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const before = await viaAgent(agent, '/added/x')
      expect(before.status).toBe(404)
      await stack.gateway.reload(
        loadGatewayConfig(withExtraRoute(stack.config), { env: stack.env }),
      )
      const after = await viaAgent(agent, '/added/x')
      expect(after.status).toBe(200)
      expect(after.socketPort).toBe(before.socketPort)
    } finally {
      agent.destroy()
    }
  })

  it('reloads on SIGHUP, and keeps the running configuration when the new one is invalid', async () => {
    const errors: string[] = []
    const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) })
    let next: object = { ...stack.config, routes: stack.config.routes.slice(0, 1) }
    const stop = reloadOnSignal(
      stack.gateway,
      () => loadGatewayConfig(next, { env: stack.env }),
      logger,
    )
    try {
      process.kill(process.pid, 'SIGHUP')
      await once(process, 'SIGHUP')
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect((await request(`${stack.url}/orders/1`, stack.ca)).status).toBe(404)
      expect((await request(`${stack.url}/public/1`, stack.ca)).status).toBe(200)

      next = {
        ...stack.config,
        routes: [{ id: 'broken', match: { path: '/x', methods: ['GET'] }, upstream: 'echo' }],
      }
      process.kill(process.pid, 'SIGHUP')
      await once(process, 'SIGHUP')
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect((await request(`${stack.url}/public/1`, stack.ca)).status).toBe(200)
      expect(errors.join('\n')).toContain('routes[0].auth: required')
    } finally {
      stop()
    }
  })
})
