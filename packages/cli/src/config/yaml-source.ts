import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml'

export type KeyPath = readonly (string | number)[]

export interface SourcePosition {
  /** 1-based. */
  readonly line: number
  /** 1-based. */
  readonly column: number
}

/** A parsed YAML (or JSON) document that can say where a key path is written. */
export interface YamlSource {
  readonly file: string
  readonly value: unknown
  /**
   * The position of the key at `path`, or of the closest ancestor written in the file when the
   * key itself is absent (a default). Undefined only for an empty document.
   */
  locate(path: KeyPath): SourcePosition | undefined
}

export class YamlSyntaxError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'))
    this.name = 'YamlSyntaxError'
  }
}

/** Parses YAML with duplicate keys refused (a second value would silently win). */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true })
  if (document.errors.length > 0) {
    throw new YamlSyntaxError(
      document.errors.map((error) => {
        const at = error.linePos?.[0]
        // prettyErrors adds the position (used here) and a source excerpt (dropped: it may hold a secret).
        const message = (error.message.split('\n')[0] ?? '').replace(
          / at line \d+, column \d+:?$/,
          '',
        )
        return `${file}${at === undefined ? '' : `:${at.line}:${at.col}`}: ${message}`
      }),
    )
  }
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset)
    return { line, column: col }
  }
  let value: unknown
  try {
    // A bounded alias count refuses exponential expansion ("billion laughs").
    value = document.toJS({ maxAliasCount: 100 })
  } catch (error) {
    throw new YamlSyntaxError([`${file}: ${(error as Error).message}`])
  }
  return {
    file,
    value,
    locate(path) {
      let node: unknown = document.contents
      let found: SourcePosition | undefined = rangeStart(node, position)
      for (const key of path) {
        const child = childOf(node, key)
        if (child === undefined) break
        found = child.at === undefined ? found : position(child.at)
        node = child.node
      }
      return found
    },
  }
}

function rangeStart(
  node: unknown,
  position: (offset: number) => SourcePosition,
): SourcePosition | undefined {
  const range = (node as Node | null)?.range
  return range === undefined || range === null ? undefined : position(range[0])
}

/** The child at `key`, and where to point for it: the key of a map entry, the start of an item. */
function childOf(node: unknown, key: string | number): { node: unknown; at?: number } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      const name = isScalar(pair.key) ? pair.key.value : pair.key
      if (String(name) !== String(key)) continue
      const at = isScalar(pair.key) ? pair.key.range?.[0] : undefined
      return at === undefined ? { node: pair.value } : { node: pair.value, at }
    }
    return undefined
  }
  if (isSeq(node) && typeof key === 'number') {
    const item = node.items[key]
    if (item === undefined) return undefined
    const at = (item as Node | null)?.range?.[0]
    return at === undefined ? { node: item } : { node: item, at }
  }
  return undefined
}
