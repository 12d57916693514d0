import {
  CLIENT_INPUT_FIELDS,
  checkClientInput,
  SecretReference,
} from '@gatehouse/authorization-server'
import { z } from 'zod'

/**
 * A client registration written in the Gatehouse configuration, for declarative setups: the
 * authorization server's own client fields and cross-field rules (`CLIENT_INPUT_FIELDS`,
 * `checkClientInput`), plus the client's secret.
 */

/** The authorization server's client input, field for field (the same object). */
export const ClientInputShape = CLIENT_INPUT_FIELDS

const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post'])

export const ClientRegistration = z
  .strictObject({
    ...ClientInputShape,
    /** Required here: a declared client is referred to by a stable id. */
    clientId: z.string().regex(/^[A-Za-z0-9._~-]{3,128}$/),
    /**
     * For client_secret_basic / client_secret_post: `{ env }` or `{ file }`. A literal string is
     * accepted so that `gatehouse audit` can point at it (GH-SECRET-001), never recommended.
     */
    clientSecret: z.union([SecretReference, z.string().min(1)]).optional(),
  })
  .superRefine(function checkClientRegistration(client, issues) {
    const fail = (path: string, message: string) =>
      issues.addIssue({ code: 'custom', path: [path], message })
    // The authorization server's own cross-field rules (admin/clients.ts).
    checkClientInput(client, issues)
    // The secret belongs to the secret-based methods only, and they cannot work without one.
    const needsSecret = SECRET_METHODS.has(client.tokenEndpointAuthMethod)
    if (needsSecret && client.clientSecret === undefined) {
      fail(
        'clientSecret',
        `${client.tokenEndpointAuthMethod} needs clientSecret ({ env } or { file })`,
      )
    }
    if (!needsSecret && client.clientSecret !== undefined) {
      fail('clientSecret', `a ${client.tokenEndpointAuthMethod} client has no secret`)
    }
  })
export type ClientRegistration = z.output<typeof ClientRegistration>
