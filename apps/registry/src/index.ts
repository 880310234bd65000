export {
  type CapabilityRoute,
  type CapabilityRoutingPolicy,
  droppedFieldsHeader,
  requestNeeds,
  routeByCapabilities,
  type UnsupportedFieldsPolicy,
} from "./capability-routing.js";
export { clientIdentity } from "./client-identity.js";
export {
  type AttemptTimeouts,
  defaultAttemptTimeouts,
  loadConfig,
  type ParseConfigOptions,
  type ProviderConfigEntry,
  parseConfig,
  providerIdPattern,
  type RegistryConfig,
  type RegistryConfigInput,
} from "./config.js";
export { ConfigError, type ConfigIssue } from "./config-error.js";
export type { EnvironmentVariables } from "./config-secrets.js";
export {
  type AttemptSource,
  type CooldownSettings,
  CooldownTracker,
  defaultCooldownSettings,
  type FailureDetails,
  type ModelHealth,
  maxTrackedModelsPerProvider,
  type ProviderHealth,
  type SuccessDetails,
} from "./cooldown.js";
export {
  type AttemptRequest,
  type CommittedAttempt,
  collectAnswer,
  EmptyAnswerError,
  FallbackRun,
  type FallbackSettings,
  failureReason,
} from "./fallback.js";
export type {
  CancelledAttemptEvent,
  FailedAttemptEvent,
  FallbackObserver,
  FellBackEvent,
  FirstContentEvent,
  ObservedRequest,
  SkippedAttemptEvent,
  SucceededAttemptEvent,
} from "./fallback-observer.js";
export { cooldownObserver, logObserver, metricsObserver } from "./fallback-observers.js";
export { type AttemptReport, HttpError, type HttpErrorDetails } from "./http-errors.js";
export { createLogger, type LogLevel } from "./logger.js";
export { type AttemptOutcome, RegistryMetrics } from "./metrics.js";
export {
  type Candidate,
  type ModelListing,
  ModelRouter,
  type RouteKind,
  type RoutingStrategy,
} from "./model-router.js";
export {
  type DiscoveredPlugin,
  type DiscoveryProblem,
  type DiscoveryResult,
  discoverProviderPackages,
  loadProviderPackage,
} from "./plugin-discovery.js";
export type { InMemoryProvider, ProviderEntry } from "./provider-set.js";
export {
  type CreateRegistryOptions,
  createRegistry,
  type ProviderDescription,
  Registry,
} from "./registry.js";
export type { AbortSource } from "./request-abort.js";
export {
  RegistryHttpHandler,
  type RunningServer,
  type StartServerOptions,
  startServer,
} from "./server.js";
