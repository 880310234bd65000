import type { IncomingHttpHeaders } from "node:http";
import { ApiKeyChecker, presentedKey } from "./api-keys.js";
import { unauthorized } from "./http-errors.js";
import type { RouteMatch } from "./routes.js";

/** Who may use a route: the API keys, when keys are configured, guard the protected ones. */
export class RouteAccess {
  readonly #keys: ApiKeyChecker;
  readonly #metricsRequireKey: boolean;

  constructor(apiKeys: readonly string[], metricsRequireKey: boolean) {
    this.#keys = new ApiKeyChecker(apiKeys);
    this.#metricsRequireKey = metricsRequireKey;
  }

  /** Throws the 401 `HttpError` unless the request presents an accepted key (or needs none). */
  check(route: RouteMatch, headers: IncomingHttpHeaders): void {
    const guarded = route.protected || (route.name === "metrics" && this.#metricsRequireKey);
    if (!guarded || this.#keys.open) return;
    const key = presentedKey(headers);
    if (key === undefined || !this.#keys.accepts(key)) throw unauthorized(key !== undefined);
  }
}
