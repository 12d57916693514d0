import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { GatewayConfigSchema } from './schema.js'

describe('gateway config schema', () => {
  it('emits JSON Schema for docs/configuration.md and gatehouse audit, with closed objects', () => {
    const schema = z.toJSONSchema(GatewayConfigSchema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, { additionalProperties?: unknown }>
      required: string[]
      additionalProperties: unknown
    }
    expect(schema.additionalProperties).toBe(false)
    expect(schema.required).toEqual(expect.arrayContaining(['listen', 'upstreams', 'routes']))
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'listen',
        'routes',
        'upstreams',
        'issuers',
        'rateLimits',
        'blockList',
        'abuse',
      ]),
    )
    expect(schema.properties.listen?.additionalProperties).toBe(false)
  })
})
