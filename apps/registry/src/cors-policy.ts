import type { IncomingMessage, ServerResponse } from "node:http";

const defaultPorts: Record<string, string> = { "http:": "80", "https:": "443" };

/** An origin as browsers send it: lower-cased, without its scheme's default port. */
function normalOrigin(origin: string): string {
  const lower = origin.trim().toLowerCase().replace(/\/$/, "");
  const match = /^(https?:)\/\/(.+?)(?::(\d+))?$/.exec(lower);
  if (match === null) return lower;
  const [, scheme = "", host = "", port] = match;
  return port === undefined || defaultPorts[scheme] === port
    ? `${scheme}//${host}`
    : `${scheme}//${host}:${port}`;
}

/** Headers a browser page may read from an answer. */
const exposedHeaders = "x-request-id, x-g4f-provider, x-g4f-dropped-params, x-g4f-usage-estimated";

/**
 * Cross-origin access for browser pages: off unless the config lists origins.
 * Then a listed origin gets its preflight answered and `Access-Control-Allow-Origin`
 * echoed back; any other gets nothing a browser would accept. Every answer says
 * `Vary: Origin` so that a cache never hands one origin's answer to another.
 */
export class CorsPolicy {
  readonly #origins: Set<string>;

  constructor(origins: readonly string[]) {
    this.#origins = new Set(origins.map(normalOrigin));
  }

  get enabled(): boolean {
    return this.#origins.size > 0;
  }

  allows(origin: string | undefined): origin is string {
    return origin !== undefined && this.#origins.has(normalOrigin(origin));
  }

  /** Set the CORS headers of an ordinary answer. */
  decorate(request: IncomingMessage, response: ServerResponse): void {
    if (!this.enabled) return;
    response.setHeader("vary", "Origin");
    const origin = request.headers.origin;
    if (!this.allows(origin)) return;
    response.setHeader("access-control-allow-origin", origin);
    response.setHeader("access-control-expose-headers", exposedHeaders);
  }

  /** Answer the preflight of a listed origin (the caller refuses the others). */
  answerPreflight(request: IncomingMessage, response: ServerResponse, methods: string): void {
    const requested = request.headers["access-control-request-headers"];
    response.writeHead(204, {
      "access-control-allow-methods": methods,
      "access-control-allow-headers":
        requested ?? "authorization, content-type, g4f-api-key, x-request-id",
      "access-control-max-age": "600",
      "content-length": 0,
    });
    response.end();
  }
}
