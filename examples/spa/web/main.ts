import {
  createGatehouseClient,
  type GatehouseClient,
  GatehouseRequestError,
  SessionEnded,
  type UserView,
} from '../src/gatehouse-client.js'
import { parseRuntimeConfig } from '../src/runtime-config.js'
import { createView, type View } from './view.js'

/**
 * The example SPA. On every load it asks the token handler to finish a login callback (or to say
 * there was none), then shows the signed-out page or the user and their orders. It reads no
 * token at any point: the tokens live in HttpOnly cookies that only the token handler and the
 * gateway can open.
 */
async function start(view: View): Promise<void> {
  let client: GatehouseClient
  try {
    const response = await fetch('/config.json', { cache: 'no-store' })
    client = createGatehouseClient(parseRuntimeConfig(await response.json()), (url, init) =>
      fetch(url, init),
    )
  } catch {
    view.status('')
    view.alert('This app is not configured correctly: /config.json could not be read.')
    return
  }

  const wasCallback = /[?&](code|state|error)=/.test(location.search)
  try {
    const ended = await client.endLogin(location.href)
    // The code and state are spent: take them out of the address bar and the history.
    if (ended.handled || wasCallback) history.replaceState(null, '', '/')
    if (ended.session.isLoggedIn) showSignedIn(view, client, ended.session.user)
    else showSignedOut(view, client)
  } catch (error) {
    if (wasCallback) history.replaceState(null, '', '/')
    showSignedOut(view, client)
    view.alert(describe(error))
  }
}

function showSignedOut(view: View, client: GatehouseClient): void {
  view.signedOut(async (button) => {
    button.disabled = true
    view.clearAlert()
    view.status('Starting the sign-in…')
    try {
      location.assign(await client.startLogin())
    } catch (error) {
      button.disabled = false
      view.status('')
      view.alert(describe(error))
    }
  })
}

function showSignedIn(view: View, client: GatehouseClient, user: UserView): void {
  view.signedIn(user, async (button) => {
    button.disabled = true
    view.clearAlert()
    view.status('Signing out…')
    try {
      const endSessionUrl = await client.logout()
      if (endSessionUrl !== null) {
        location.assign(endSessionUrl)
        return
      }
    } catch (error) {
      if (!(error instanceof SessionEnded)) {
        button.disabled = false
        view.alert(describe(error))
        return
      }
    }
    showSignedOut(view, client)
  })
  void loadOrders(view, client)
}

async function loadOrders(view: View, client: GatehouseClient): Promise<void> {
  view.ordersLoading()
  try {
    const orders = await client.listOrders()
    view.clearAlert()
    view.orders(orders, () => void loadOrders(view, client))
  } catch (error) {
    if (error instanceof SessionEnded) {
      showSignedOut(view, client)
      view.alert('Your session has ended. Please sign in again.')
      return
    }
    view.alert(describe(error))
    view.ordersFailed(() => void loadOrders(view, client))
  }
}

/** A sentence for the user; the code (never a token or a server's detail) helps support. */
function describe(error: unknown): string {
  if (!(error instanceof GatehouseRequestError)) return 'Something went wrong. Please try again.'
  switch (error.code) {
    case 'network_error':
      return 'The server could not be reached. Please check your connection and try again.'
    case 'authorization_server_unavailable':
      return 'Sign-in is unavailable at the moment. Please try again shortly.'
    case 'login_failed':
      return 'The sign-in did not complete. Please sign in again.'
    case 'session_expired':
      return 'Your session has ended. Please sign in again.'
    case 'insufficient_scope':
      return 'You are not allowed to see these orders.'
    default:
      return `Something went wrong (${error.code}). Please try again.`
  }
}

void start(createView())
