export {
  createSpaHandler,
  DEFAULT_DIST_DIR,
  type SpaHandlerOptions,
  type SpaRequestListener,
} from './create-spa-handler.js'
export {
  DEFAULT_CSRF_HEADER_NAME,
  parseRuntimeConfig,
  type SpaRuntimeConfig,
  type SpaRuntimeConfigInput,
} from './runtime-config.js'
