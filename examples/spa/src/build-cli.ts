import { buildSpaAssets } from './build-assets.js'

// `npm run build -w @gatehouse/example-spa`: bundles the SPA into dist/public after `tsc -b`.
const outDir = await buildSpaAssets()
process.stdout.write(`example SPA built into ${outDir}\n`)
