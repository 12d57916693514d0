/**
 * Overlap of two gateway path patterns (`/a/b` exact, `*` one segment, a final `**` for the prefix
 * and everything below, as the gateway's `compilePathPattern` matches them). Returns a concrete
 * path both patterns match, or undefined when no path matches both.
 */
export function overlappingPath(a: string, b: string): string | undefined {
  const witness = overlap(segmentsOf(a), segmentsOf(b))
  return witness === undefined ? undefined : `/${witness.join('/')}`
}

export function segmentsOf(pattern: string): string[] {
  return pattern === '/' ? [] : pattern.slice(1).split('/')
}

function overlap(a: readonly string[], b: readonly string[]): string[] | undefined {
  const [headA, ...restA] = a
  const [headB, ...restB] = b
  // A final `**` matches the empty remainder too, so whatever the other side still needs fits.
  if (headA === '**') return concrete(b)
  if (headB === '**') return concrete(a)
  if (headA === undefined || headB === undefined) {
    return headA === undefined && headB === undefined ? [] : undefined
  }
  if (headA !== '*' && headB !== '*' && headA !== headB) return undefined
  const rest = overlap(restA, restB)
  if (rest === undefined) return undefined
  return [headA === '*' ? (headB === '*' ? 'x' : headB) : headA, ...rest]
}

/** One path a pattern matches: wildcards become `x`, a final `**` matches nothing more. */
function concrete(pattern: readonly string[]): string[] {
  return pattern.filter((segment) => segment !== '**').map((s) => (s === '*' ? 'x' : s))
}

/**
 * Whether `pattern` matches every path of the OpenAPI path `template` (`{param}` is any one
 * segment): literal segments match themselves only, `*` any segment, a final `**` the rest.
 */
export function coversTemplate(pattern: readonly string[], template: readonly string[]): boolean {
  const [want, ...restPattern] = pattern
  const [have, ...restTemplate] = template
  if (want === '**') return true
  if (want === undefined || have === undefined) return want === undefined && have === undefined
  const isParameter = /^\{[^}]+\}$/.test(have)
  if (want !== '*' && (isParameter || want !== have)) return false
  return coversTemplate(restPattern, restTemplate)
}
