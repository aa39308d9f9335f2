// @meridian/service-kit — what every Meridian service process shares: environment parsing, the region
// layout and topic set-up, HTTP routing with the typed error → status mapping, logging and metrics.

export { type Access, authorize, bearerHeaders, bearerMatches, type Refusal } from "./auth.js";
export {
  envInt,
  envRequired,
  layoutFromEnv,
  listenFromEnv,
  parseRedisDbs,
  parseRedisUrls,
  stopOnSignals,
} from "./env.js";
export {
  buildApp,
  DEFAULT_HTTP_LIMITS,
  errorResponse,
  errorToResponse,
  type Handler,
  type HttpLimits,
  type HttpLogger,
  type HttpRequest,
  type HttpResponse,
  listen,
  type Route,
  type RouteOptions,
  Router,
  type RouteSchema,
  type ServeOptions,
  type StartedServer,
} from "./http.js";
export { type RegionLayout, type RegionLayoutOptions, regionRedisUrl, resolveLayout } from "./layout.js";
export {
  addObservabilityRoutes,
  createLogger,
  createRegistry,
  type HealthCheck,
  type Logger,
} from "./observability.js";
export { ensureTopicsFor, kafkaHealthCheck, pipelineTopicNames } from "./topics.js";
