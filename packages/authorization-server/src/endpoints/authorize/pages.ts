import type { ServerResponse } from 'node:http'
import type { AuthorizationServerConfig } from '../../config/schema.js'
import { errorBlock, escapeHtml, hiddenFields, sendPage } from '../../pages/html.js'

/** The server-rendered pages of the authorization flow: plain HTML forms, no JavaScript. */
export interface FormBinding {
  readonly action: string
  readonly id: string
  readonly csrf: string
}

type Headers = Record<string, string | string[]>

export function sendLoginPage(
  res: ServerResponse,
  form: FormBinding,
  clientName: string,
  options: { status?: number; error?: string; headers?: Headers } = {},
): void {
  sendPage(
    res,
    options.status ?? 200,
    'Sign in',
    `<p>to continue to <strong>${escapeHtml(clientName)}</strong></p>
${errorBlock(options.error)}
<form method="post" action="${escapeHtml(form.action)}">
${hiddenFields({ id: form.id, csrf: form.csrf, step: 'login' })}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
    options.headers,
  )
}

export function sendMfaPage(
  res: ServerResponse,
  form: FormBinding,
  options: { status?: number; error?: string; headers?: Headers } = {},
): void {
  sendPage(
    res,
    options.status ?? 200,
    'Enter your one-time code',
    `<p>Open your authenticator app and enter the 6-digit code.</p>
${errorBlock(options.error)}
<form method="post" action="${escapeHtml(form.action)}">
${hiddenFields({ id: form.id, csrf: form.csrf, step: 'mfa' })}
<label for="code">One-time code</label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required autofocus>
<button type="submit">Verify</button>
</form>`,
    options.headers,
  )
}

const BUILT_IN_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in with your account',
  offline_access: 'Stay connected when you are not using it',
}

export function sendConsentPage(
  res: ServerResponse,
  form: FormBinding,
  clientName: string,
  scopes: readonly string[],
  definitions: AuthorizationServerConfig['scopes'],
  headers: Headers = {},
): void {
  const items = scopes
    .map((scope) => {
      const description = definitions[scope]?.description ?? BUILT_IN_DESCRIPTIONS[scope] ?? scope
      return `<li>${escapeHtml(description)} <small>(<code>${escapeHtml(scope)}</code>)</small></li>`
    })
    .join('\n')
  sendPage(
    res,
    200,
    'Allow access?',
    `<p><strong>${escapeHtml(clientName)}</strong> asks to:</p>
<ul>${items}</ul>
<form method="post" action="${escapeHtml(form.action)}">
${hiddenFields({ id: form.id, csrf: form.csrf, step: 'consent' })}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
    headers,
  )
}

export function sendExpiredInteraction(res: ServerResponse, headers: Headers = {}): void {
  sendPage(
    res,
    400,
    'This sign-in attempt has expired',
    '<p>Go back to the application and start again.</p>',
    headers,
  )
}
