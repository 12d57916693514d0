import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  audit,
  auditJson,
  CLEAN_CONFIG,
  cleanConfigWith,
  createWorkspace,
  ORDERS_OPENAPI,
} from './support.js'

let workspace: Awaited<ReturnType<typeof createWorkspace>>
beforeAll(async () => {
  workspace = await createWorkspace()
})
afterAll(() => workspace.remove())

const config = CLEAN_CONFIG

function openapi(servers: string, paths: string): string {
  return `openapi: 3.0.3\ninfo: { title: t, version: '1' }\n${servers}paths:\n${paths}`
}

describe('gatehouse audit --openapi: operations matched to routes by upstream and path', () => {
  it('finds every operation of the orders API routed (servers URL → upstream, stripPrefix)', async () => {
    const report = await auditJson([config, '--openapi', ORDERS_OPENAPI])
    expect(report.findings).toEqual([])
  })

  it('reports each unrouted operation at its line in the OpenAPI document', async () => {
    const file = await workspace.write(
      'orders-more.yaml',
      openapi(
        'servers:\n  - url: https://orders.internal.test:8443/v1\n',
        [
          '  /orders/{orderId}:',
          '    get: { responses: {} }',
          '    delete: { responses: {} }',
          '  /orders/{orderId}/refunds:',
          '    post: { responses: {} }',
          '  /admin/export:',
          '    get: { responses: {} }',
          '',
        ].join('\n'),
      ),
    )
    const report = await auditJson([config, '--openapi', file])
    expect(
      report.findings.map((f) => [f.id, f.location.file, f.location.keyPath, f.location.line]),
    ).toEqual([
      ['GH-OPENAPI-001', file, 'paths./orders/{orderId}.delete', 8],
      ['GH-OPENAPI-001', file, 'paths./orders/{orderId}/refunds.post', 10],
      ['GH-OPENAPI-001', file, 'paths./admin/export.get', 12],
    ])
    expect(report.findings[1]?.message).toBe(
      'POST /orders/{orderId}/refunds of upstream "orders" has no route',
    )
  })

  it('counts a path parameter as routed only by a wildcard segment, not by one literal id', async () => {
    const file = await workspace.write(
      'one-order.yaml',
      await cleanConfigWith((doc) => {
        doc.setIn(['gateway', 'routes', 0, 'match', 'path'], '/api/orders/ord-1')
        doc.setIn(['gateway', 'routes', 2, 'match', 'methods'], ['PUT'])
      }),
    )
    const report = await auditJson([file, '--openapi', ORDERS_OPENAPI])
    expect(report.findings.map((f) => f.location.keyPath)).toEqual(['paths./orders/{orderId}.get'])
  })

  it('does not count a route of another upstream, or for another method, as routing it', async () => {
    const file = await workspace.write(
      'other-upstream.yaml',
      await cleanConfigWith((doc) => {
        doc.setIn(['gateway', 'upstreams', 'billing'], {
          url: 'https://billing.internal.test',
          clientCertificate: { cert: { file: 'c.pem' }, key: { file: 'k.pem' } },
        })
        doc.setIn(['gateway', 'routes', 1, 'upstream'], 'billing')
      }),
    )
    const report = await auditJson([file, '--openapi', ORDERS_OPENAPI])
    expect(report.findings.map((f) => f.location.keyPath)).toEqual(['paths./orders.post'])
  })

  it('ties a document without servers to the upstream named on the command line', async () => {
    const file = await workspace.write(
      'named.json',
      JSON.stringify({
        openapi: '3.1.0',
        info: { title: 'orders', version: '1' },
        paths: { '/orders': { post: {} }, '/orders/{id}/cancel': { post: {} } },
      }),
    )
    const report = await auditJson([config, '--openapi', `orders=${file}`])
    expect(report.findings.map((f) => f.message)).toEqual([
      'POST /orders/{id}/cancel of upstream "orders" has no route',
    ])
  })

  it.each([
    [
      'a document no upstream serves',
      'servers:\n  - url: https://elsewhere.test/v1\n',
      'no gateway upstream serves https://elsewhere.test/v1',
    ],
    [
      'a document without servers or upstream name',
      '',
      'no gateway upstream serves it (no servers)',
    ],
  ])('exits 2 on %s', async (_name, servers, message) => {
    const file = await workspace.write('unbound.yaml', openapi(servers, '  /x:\n    get: {}\n'))
    const run = await audit([config, '--openapi', file])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
  })

  it.each([
    [
      'an unknown upstream name',
      (file: string) => `nowhere=${file}`,
      'no upstream named "nowhere"',
    ],
    ['a Swagger 2 document', () => 'swagger2', 'only OpenAPI 3.x documents are read'],
    ['a missing document', () => '/nonexistent/openapi.yaml', 'cannot read (ENOENT)'],
  ])('exits 2 on %s', async (_name, argument, message) => {
    const file = await workspace.write('doc.yaml', openapi('', '  /x:\n    get: {}\n'))
    const swagger = await workspace.write('swagger2', 'swagger: "2.0"\npaths: {}\n')
    const arg = argument(file) === 'swagger2' ? swagger : argument(file)
    const run = await audit([config, '--openapi', arg])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
  })
})
