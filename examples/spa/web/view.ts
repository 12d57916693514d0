import type { OrderSummary, UserView } from '../src/gatehouse-client.js'

/**
 * The page's DOM, built with `createElement` and `textContent` only: no HTML strings, so the
 * page runs under Trusted Types (`require-trusted-types-for 'script'`) and nothing a server
 * answers can become markup.
 */
export interface View {
  status(message: string): void
  alert(message: string): void
  clearAlert(): void
  signedOut(onSignIn: (button: HTMLButtonElement) => void): void
  signedIn(user: UserView, onSignOut: (button: HTMLButtonElement) => void): void
  ordersLoading(): void
  orders(orders: readonly OrderSummary[], onReload: () => void): void
  ordersFailed(onRetry: () => void): void
}

type Child = Node | string

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string>> = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  for (const child of children) {
    node.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
  return node
}

function required(id: string): HTMLElement {
  const node = document.getElementById(id)
  if (node === null) throw new Error(`the page has no #${id}`)
  return node
}

export function createView(): View {
  const account = required('account')
  const status = required('status')
  const alertBox = required('alert')
  const content = required('content')
  const main = required('main')

  function button(label: string, onClick: (button: HTMLButtonElement) => void, kind = '') {
    const node = element(
      'button',
      kind === '' ? { type: 'button' } : { type: 'button', class: kind },
    )
    node.textContent = label
    node.addEventListener('click', () => onClick(node))
    return node
  }

  return {
    status(message) {
      status.textContent = message
    },
    alert(message) {
      alertBox.textContent = message
    },
    clearAlert() {
      alertBox.textContent = ''
    },
    signedOut(onSignIn) {
      document.title = 'Gatehouse example shop'
      account.replaceChildren(button('Sign in', onSignIn))
      content.replaceChildren(
        element('h1', {}, ['Welcome']),
        element('p', {}, [
          'Sign in to see your orders. You will sign in on the Gatehouse login page; this app only ever receives secure cookies.',
        ]),
      )
      status.textContent = 'You are signed out.'
    },
    signedIn(user, onSignOut) {
      const name = user.name ?? user.subject ?? 'you'
      document.title = `${name} — Gatehouse example shop`
      const who = element('p', { id: 'signed-in-as' }, [
        'Signed in as ',
        element('strong', {}, [name]),
      ])
      account.replaceChildren(who, button('Sign out', onSignOut, 'secondary'))
      const details = element('dl', { class: 'profile' }, [
        element('dt', {}, ['Name']),
        element('dd', { id: 'profile-name' }, [user.name ?? '—']),
        element('dt', {}, ['Customer number']),
        element('dd', { id: 'profile-customer-id' }, [user.customerId ?? '—']),
      ])
      content.replaceChildren(
        element('h1', {}, [`Hello, ${name}`]),
        details,
        element('div', { id: 'orders' }),
      )
      status.textContent = `Signed in as ${name}.`
      main.focus()
    },
    ordersLoading() {
      required('orders').replaceChildren(element('p', {}, ['Loading your orders…']))
    },
    orders(orders, onReload) {
      const rows = orders.map((order) =>
        element('tr', {}, [
          element('th', { scope: 'row' }, [order.id]),
          element('td', {}, [order.status]),
          element('td', {}, [
            order.items.map((item) => `${item.quantity} × ${item.sku}`).join(', '),
          ]),
          element('td', {}, [order.createdAt.slice(0, 10)]),
        ]),
      )
      const table = element('table', { id: 'orders-table' }, [
        element('caption', {}, ['Your orders']),
        element('thead', {}, [
          element('tr', {}, [
            element('th', { scope: 'col' }, ['Order']),
            element('th', { scope: 'col' }, ['Status']),
            element('th', { scope: 'col' }, ['Items']),
            element('th', { scope: 'col' }, ['Placed']),
          ]),
        ]),
        element('tbody', {}, rows),
      ])
      required('orders').replaceChildren(
        orders.length === 0 ? element('p', {}, ['You have no orders yet.']) : table,
        button('Reload orders', () => onReload(), 'secondary'),
      )
      status.textContent = `${orders.length} order${orders.length === 1 ? '' : 's'} loaded.`
    },
    ordersFailed(onRetry) {
      required('orders').replaceChildren(
        element('p', {}, ['Your orders could not be loaded.']),
        button('Try again', () => onRetry(), 'secondary'),
      )
    },
  }
}
