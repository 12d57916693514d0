import { once } from 'node:events'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RoundRobinFront, startRoundRobinFront } from './round-robin-front.js'

/** A TCP backend that answers each connection with its name and closes it. */
async function namedBackend(name: string): Promise<net.Server> {
  const server = net.createServer((socket) => socket.end(name))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

async function ask(port: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  let answer = ''
  socket.on('data', (chunk) => {
    answer += chunk
  })
  await once(socket, 'close')
  return answer
}

const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port

describe('the round-robin front of the distributed dev stack', () => {
  let backends: net.Server[]
  let refusedPort: number
  let front: RoundRobinFront
  beforeAll(async () => {
    backends = [await namedBackend('a'), await namedBackend('b')]
    // A port nobody listens on: a backend that is down.
    const closed = await namedBackend('gone')
    refusedPort = portOf(closed)
    closed.close()
    await once(closed, 'close')
    front = await startRoundRobinFront(
      [
        ...backends.map((server) => ({ host: '127.0.0.1', port: portOf(server) })),
        { host: '127.0.0.1', port: refusedPort },
      ],
      0,
    )
  })
  afterAll(async () => {
    await front.close()
    for (const server of backends) server.close()
  })

  it('sends each new connection to the next backend, skipping one that refuses', async () => {
    const answers: string[] = []
    for (let i = 0; i < 6; i++) answers.push(await ask(front.port))
    expect(answers.filter((answer) => answer === 'a').length).toBeGreaterThanOrEqual(2)
    expect(answers.filter((answer) => answer === 'b').length).toBeGreaterThanOrEqual(2)
    expect(answers.every((answer) => answer === 'a' || answer === 'b')).toBe(true)
  })

  it('refuses to start without a backend', async () => {
    await expect(startRoundRobinFront([], 0)).rejects.toThrow(/at least one backend/)
  })
})
