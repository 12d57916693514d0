/**
 * A minimal browser for driving the authorization server's HTML flow in tests: a cookie jar,
 * manual redirects (so each hop can be inspected) and form reading. No JavaScript is needed to
 * sign in, so plain HTTP requests are what a real browser would send.
 */
export interface Page {
  readonly status: number
  readonly url: string
  readonly location: string | null
  readonly html: string
  readonly headers: Headers
}

export interface Browser {
  get(url: string): Promise<Page>
  post(url: string, form: Record<string, string>): Promise<Page>
  /** Follows 3xx redirects on the server's own origin; stops at another origin (the client). */
  follow(page: Page): Promise<Page>
  /** Reads the form on the page and submits it with `values` merged over its hidden fields. */
  submit(page: Page, values: Record<string, string>): Promise<Page>
  readonly cookies: Map<string, string>
}

export function hiddenInputs(html: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[decode(match[1] ?? '')] = decode(match[2] ?? '')
  }
  return fields
}

function decode(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

export function formAction(html: string): string | null {
  const match = /<form method="post" action="([^"]+)">/.exec(html)
  return match === null ? null : decode(match[1] ?? '')
}

export function createBrowser(origin: string, fetchImpl: typeof fetch = fetch): Browser {
  const cookies = new Map<string, string>()

  async function request(url: string, init: RequestInit): Promise<Page> {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetchImpl(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        ...(cookie === '' ? {} : { cookie }),
      },
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair?.indexOf('=') ?? -1
      if (pair === undefined || eq < 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/max-age=0/i.test(line) || value === '') cookies.delete(name)
      else cookies.set(name, value)
    }
    const location = response.headers.get('location')
    return {
      status: response.status,
      url,
      location: location === null ? null : new URL(location, url).toString(),
      html: await response.text(),
      headers: response.headers,
    }
  }

  const browser: Browser = {
    cookies,
    get: (url) => request(url, { method: 'GET' }),
    post: (url, form) =>
      request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      }),
    async follow(page) {
      let current = page
      for (let hops = 0; hops < 10; hops++) {
        if (current.location === null || !current.location.startsWith(origin)) return current
        current = await browser.get(current.location)
      }
      throw new Error('too many redirects')
    },
    async submit(page, values) {
      const action = formAction(page.html)
      if (action === null) throw new Error(`no form on the page (status ${page.status})`)
      return browser.post(new URL(action, page.url).toString(), {
        ...hiddenInputs(page.html),
        ...values,
      })
    },
  }
  return browser
}
