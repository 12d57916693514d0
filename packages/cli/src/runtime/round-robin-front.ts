import net from 'node:net'

export interface RoundRobinFront {
  readonly port: number
  close(): Promise<void>
}

/**
 * A TCP round-robin front for the distributed dev stack: each new connection goes to the next
 * backend in turn, TLS passing through untouched (every instance presents the same certificate),
 * so it stands in for a production load balancer without terminating TLS. Written by hand
 * because it is a few lines of `node:net` and a dev-only stand-in, not a proxy for production
 * (no health checks: a backend that refuses is skipped for that connection only).
 */
export async function startRoundRobinFront(
  backends: readonly { readonly host: string; readonly port: number }[],
  port: number,
  host = '127.0.0.1',
): Promise<RoundRobinFront> {
  if (backends.length === 0) throw new TypeError('a front needs at least one backend')
  let next = 0
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  const server = net.createServer((client) => {
    track(client)
    client.on('error', () => client.destroy())
    const connect = (attempt: number) => {
      const backend = backends[next++ % backends.length]
      if (backend === undefined) return client.destroy()
      const upstream = net.connect(backend.port, backend.host)
      track(upstream)
      let connected = false
      upstream.once('connect', () => {
        connected = true
        upstream.pipe(client)
        client.pipe(upstream)
        upstream.once('close', () => client.destroy())
      })
      upstream.on('error', () => {
        upstream.destroy()
        // Not connected yet: try the next backend, once round the ring at most.
        if (!connected && attempt + 1 < backends.length && !client.destroyed) connect(attempt + 1)
        else client.destroy()
      })
      client.once('close', () => upstream.destroy())
    }
    connect(0)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
