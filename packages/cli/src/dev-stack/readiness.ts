import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

/**
 * Waits until every URL answers with an HTTP status below 500 (any answer from the component
 * itself, not a 503 "starting"). `dev.json` is written only after this, so tooling that waits for
 * the file can use every URL in it at once.
 */
export async function waitUntilAnswering(
  urls: readonly string[],
  ca: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (const url of urls) {
    for (;;) {
      const status = await statusOf(url, ca).catch(() => 0)
      if (status > 0 && status < 500) break
      if (Date.now() > deadline)
        throw new Error(`${url} did not answer within ${timeoutMs} ms (last status ${status})`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

function statusOf(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const onResponse = (res: import('node:http').IncomingMessage) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    }
    const req =
      target.protocol === 'http:'
        ? httpRequest(target, { agent: false, timeout: 2_000 }, onResponse)
        : httpsRequest(target, { ca, agent: false, timeout: 2_000 }, onResponse)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}
