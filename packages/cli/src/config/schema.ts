import { AuthorizationServerConfigSchema, SecretReference } from '@gatehouse/authorization-server'
import { GatewayConfigSchema } from '@gatehouse/gateway'
import { TokenHandlerConfigSchema } from '@gatehouse/token-handler'
import { z } from 'zod'
import { ClientRegistration } from './client-registration.js'

/**
 * The root Gatehouse configuration: one YAML file composing each component's own slice (imported
 * from its package, never copied), the declared clients, and where state lives. Strict at every
 * level: an unknown key is an error naming its key path. Secrets are `{ env }` / `{ file }`
 * references; `docs/configuration.md` is generated from this schema.
 */

export const StoreConfig = z.discriminatedUnion('driver', [
  z.strictObject({
    driver: z.literal('sqlite'),
    /** The database file (created on first start), relative to the working directory. */
    path: z.string().min(1),
  }),
  z.strictObject({ driver: z.literal('postgres'), url: SecretReference }),
])

export const StateConfig = z.discriminatedUnion('driver', [
  /** In-process counters, caches and revocation events (one machine). */
  z.strictObject({ driver: z.literal('memory') }),
  z.strictObject({ driver: z.literal('redis'), url: SecretReference }),
])

export const GatehouseConfigSchema = z
  .strictObject({
    /** The authorization server (see docs/authorization-server.md). */
    authorizationServer: AuthorizationServerConfigSchema.optional(),
    /** The API gateway (see docs/gateway.md). */
    gateway: GatewayConfigSchema.optional(),
    /** The token handler (backend for frontend) for single-page apps. */
    tokenHandler: TokenHandlerConfigSchema.optional(),
    /** Clients registered at the authorization server on start (declarative setups). */
    clients: z.array(ClientRegistration).default([]),
    /** The authorization server's store. */
    store: StoreConfig.optional(),
    /** Shared state of gateways: rate-limit counters, caches, revocation events. */
    state: StateConfig.prefault({ driver: 'memory' }),
  })
  .superRefine(function checkComposition(config, issues) {
    const fail = (path: (string | number)[], message: string) =>
      issues.addIssue({ code: 'custom', path, message })
    const components = ['authorizationServer', 'gateway', 'tokenHandler'] as const
    if (components.every((name) => config[name] === undefined)) {
      fail([], `configure at least one of ${components.join(', ')}`)
    }
    if (config.authorizationServer !== undefined && config.store === undefined) {
      fail(['store'], 'required with authorizationServer (e.g. { driver: sqlite, path: … })')
    }
    if (config.clients.length > 0 && config.authorizationServer === undefined) {
      fail(['clients'], 'clients are registered at the authorizationServer, which is missing')
    }
    const seen = new Set<string>()
    config.clients.forEach((client, index) => {
      if (seen.has(client.clientId)) {
        fail(['clients', index, 'clientId'], `duplicate client id "${client.clientId}"`)
      }
      seen.add(client.clientId)
    })
  })

export type GatehouseConfigInput = z.input<typeof GatehouseConfigSchema>
export type GatehouseConfig = z.output<typeof GatehouseConfigSchema>
