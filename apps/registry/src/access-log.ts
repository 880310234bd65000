import type { Logger } from "pino";
import { shownPath } from "./http-errors.js";
import type { RouteName } from "./routes.js";

/** What the access log and the request metrics record of one answered request. */
export interface AccessRecord {
  readonly requestId: string;
  readonly method: string;
  readonly route: RouteName;
  readonly path: string;
  /** The answer's status; 499 when the client left first. */
  readonly status: number;
  readonly seconds: number;
  /** The provider that answered, when one did. */
  readonly provider: string | undefined;
  readonly failedAttempts: number;
}

/** Where an answered request is counted: the registry's `recordRequest`. */
export interface RequestCounter {
  recordRequest(route: RouteName, status: number, seconds: number): void;
}

/** Count one answered request in the metrics and log it at info, when info is on. */
export function logAccess(counter: RequestCounter, logger: Logger, record: AccessRecord): void {
  counter.recordRequest(record.route, record.status, record.seconds);
  if (!logger.isLevelEnabled("info")) return;
  logger.info(
    {
      requestId: record.requestId,
      method: record.method,
      route: record.route,
      path: shownPath(record.path),
      status: record.status,
      durationMs: Math.round(record.seconds * 1000),
      provider: record.provider,
      failedAttempts: record.failedAttempts,
    },
    "request",
  );
}
