import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { AbortError, ProviderError } from "@g4f-ts/provider-core";
import { ApiKeyChecker, presentedKey } from "./api-keys.js";
import { handleChatCompletion } from "./chat-completions.js";
import { capConnections, defaultMaxConnections } from "./connection-cap.js";
import { CorsPolicy } from "./cors-policy.js";
import { HostAllowlist } from "./host-allowlist.js";
import {
  HttpError,
  hostNotAllowed,
  methodNotAllowed,
  notFoundRoute,
  originNotAllowed,
  shownPath,
  shuttingDown,
  unauthorized,
  unsupportedMediaType,
} from "./http-errors.js";
import { sendError, sendJson } from "./http-responses.js";
import { handleImageGeneration } from "./image-generations.js";
import { isJsonContentType } from "./json-content-type.js";
import { type CreateRegistryOptions, createRegistry, type Registry } from "./registry.js";
import { RequestAbort } from "./request-abort.js";
import { discardRequestBody, readJsonBody } from "./request-body.js";
import type { RequestContext } from "./request-context.js";

type RouteName =
  | "chat"
  | "images"
  | "models"
  | "model"
  | "provider_models"
  | "providers"
  | "healthz"
  | "metrics"
  | "unknown";

/** What a path resolved to: the route, its method, and the provider or model named in the path. */
interface RouteMatch {
  name: RouteName;
  method: "GET" | "POST";
  /** Behind the API keys, when keys are configured. */
  protected: boolean;
  /** The provider id of `/api/<id>/…`, or the model of `/v1/models/<model>`. */
  parameter: string | undefined;
}

const staticRoutes = new Map<string, RouteMatch>();
function staticRoute(paths: string[], name: RouteName, method: "GET" | "POST", guarded: boolean) {
  for (const path of paths)
    staticRoutes.set(path, { name, method, protected: guarded, parameter: undefined });
}
staticRoute(["/v1/chat/completions", "/chat/completions"], "chat", "POST", true);
staticRoute(["/v1/images/generations", "/images/generations"], "images", "POST", true);
staticRoute(["/v1/models", "/models"], "models", "GET", true);
staticRoute(["/v1/providers", "/providers"], "providers", "GET", true);
staticRoute(["/healthz", "/health"], "healthz", "GET", false);
staticRoute(["/metrics"], "metrics", "GET", false);

// g4f's per-provider paths: /api/<provider>/chat/completions (with or without v1/).
const providerPathPattern =
  /^\/api\/([^/]+)\/(?:v1\/)?(chat\/completions|images\/generations|models)$/;
const providerPathRoutes: Record<string, { name: RouteName; method: "GET" | "POST" }> = {
  "chat/completions": { name: "chat", method: "POST" },
  "images/generations": { name: "images", method: "POST" },
  models: { name: "provider_models", method: "GET" },
};

function matchRoute(path: string): RouteMatch | undefined {
  const fixed = staticRoutes.get(path);
  if (fixed !== undefined) return fixed;
  if (path.startsWith("/api/")) {
    const match = providerPathPattern.exec(path);
    const route = match === null ? undefined : providerPathRoutes[match[2] as string];
    if (match === null || route === undefined) return undefined;
    return { ...route, protected: true, parameter: safeDecode(match[1] as string) };
  }
  for (const prefix of ["/v1/models/", "/models/"]) {
    if (path.startsWith(prefix) && path.length > prefix.length)
      return {
        name: "model",
        method: "GET",
        protected: true,
        parameter: safeDecode(path.slice(prefix.length)),
      };
  }
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is a sane token, else a new one. */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && requestIdPattern.test(given) ? given : randomUUID();
}

/**
 * A refused body is read and dropped up to this many bytes (and for at most
 * `discardMs`) before its answer, so the client sees the answer rather than a
 * reset on its upload; past that the connection is closed on it.
 */
function discardBytesOf(bodyLimitBytes: number): number {
  return Math.max(4 * bodyLimitBytes, 16 * 1024 * 1024);
}
const discardMs = 10_000;

/** Status, message and code of the answer to a request node could not parse, by error code. */
const clientErrorAnswers: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, "The request headers are too large", "headers_too_large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "The request did not arrive in time", "request_timeout"],
  HPE_INVALID_EOF_STATE: [
    400,
    "The connection ended before the request was complete",
    "incomplete_body",
  ],
};

/** A request in flight, as graceful shutdown sees it. */
interface OpenRequest {
  readonly controller: RequestAbort;
  readonly context: RequestContext;
}

/**
 * The HTTP side of a registry: routes, API keys, the body limit, error shapes,
 * and the bookkeeping graceful shutdown needs. `listener` is a plain
 * `(request, response)` function for `node:http` (or any server that takes one).
 */
export class RegistryHttpHandler {
  readonly #registry: Registry;
  readonly #keys: ApiKeyChecker;
  readonly #hosts: HostAllowlist;
  readonly #cors: CorsPolicy;
  readonly #open = new Set<OpenRequest>();
  /** The answers in progress on each connection (pipelined ones queue), for client errors that arrive on it. */
  readonly #answering = new WeakMap<Duplex, Set<ServerResponse>>();
  readonly #idleWaiters: (() => void)[] = [];
  #shuttingDown = false;

  /** `listeningHost`: the address the server listens on, a name its clients may use (default: the config's). */
  constructor(registry: Registry, listeningHost = registry.config.server.host) {
    this.#registry = registry;
    const { server } = registry.config;
    this.#keys = new ApiKeyChecker(server.apiKeys);
    this.#hosts = new HostAllowlist(server.allowedHosts, listeningHost);
    this.#cors = new CorsPolicy(server.corsOrigins);
  }

  readonly listener = (request: IncomingMessage, response: ServerResponse): void => {
    void this.#handle(request, response);
  };

  /** Requests being answered right now. */
  openRequests(): number {
    return this.#open.size;
  }

  /**
   * Node answers a request it cannot parse (broken framing, a body cut short of its
   * `content-length`, control characters in the path, headers over the limit) with a
   * bare status line; this answer carries OpenAI's error shape like every other. As
   * Node does, nothing is written once an answer on that connection has begun.
   */
  readonly clientErrorListener = (error: NodeJS.ErrnoException, socket: Duplex): void => {
    if (error.code === "ECONNRESET" || !socket.writable || this.#answerBegun(socket)) {
      socket.destroy();
      return;
    }
    const [status, message, code] = clientErrorAnswers[error.code ?? ""] ?? [
      400,
      `The request is not valid HTTP (${error.code ?? "parse error"})`,
      "malformed_request",
    ];
    const body = new HttpError(status, message, { code }).toBody();
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };

  #answerBegun(socket: Duplex): boolean {
    for (const response of this.#answering.get(socket) ?? [])
      if (response.headersSent && !response.writableFinished) return true;
    return false;
  }

  /**
   * From now on every answer closes its connection, `/healthz` answers 503
   * `shutting_down`, and any other new request 503 `server_shutting_down`.
   */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /** Resolves when no request is open, or after `timeoutMs`; true when none is left. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.#open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const index = this.#idleWaiters.indexOf(onIdle);
        if (index >= 0) this.#idleWaiters.splice(index, 1);
        resolve(this.#open.size === 0);
      }, timeoutMs);
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idleWaiters.push(onIdle);
    });
  }

  /** End every open request: a committed stream gets a final error event saying why. */
  abortOpenRequests(): void {
    for (const open of this.#open) {
      open.context.endedByShutdown = true;
      open.controller.abort(new AbortError({ message: "The server is shutting down" }));
    }
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const registry = this.#registry;
    const { logger } = registry;
    const requestId = requestIdOf(request);
    response.setHeader("x-request-id", requestId);
    if (this.#shuttingDown) response.setHeader("connection", "close");

    const url = request.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = request.method ?? "GET";
    const route = matchRoute(path);
    const controller = new RequestAbort();
    const context: RequestContext = {
      registry,
      request,
      response,
      requestId,
      signal: controller,
      logger: logger.isLevelEnabled("warn") ? logger : undefined,
      endedByShutdown: false,
      provider: undefined,
      failedAttempts: 0,
    };
    const open: OpenRequest = { controller, context };
    this.#open.add(open);
    const { socket } = request;
    let answering = this.#answering.get(socket);
    if (answering === undefined) {
      answering = new Set();
      this.#answering.set(socket, answering);
    }
    answering.add(response);
    response.once("close", () => answering.delete(response));
    // The client leaving (the response closing before it finished) cancels the
    // upstream call at once: the signal reaches the provider's socket.
    response.once("close", () => {
      if (!response.writableFinished)
        controller.abort(new AbortError({ message: "The client closed the request" }));
    });

    try {
      const { host } = request.headers;
      if (!this.#hosts.accepts(host)) throw hostNotAllowed(host ?? "");
      this.#cors.decorate(request, response);
      if (route === undefined) throw notFoundRoute(method, path);
      const allowed = route.method === "GET" ? "GET, HEAD" : route.method;
      if (method === "OPTIONS" && this.#cors.enabled) {
        const { origin } = request.headers;
        if (!this.#cors.allows(origin)) throw originNotAllowed(origin ?? "(none)");
        this.#cors.answerPreflight(request, response, allowed);
        return;
      }
      if (this.#shuttingDown && route.name !== "healthz") throw shuttingDown();
      // HEAD is GET without the body (Node leaves the body out of a HEAD answer).
      if (method !== route.method && !(method === "HEAD" && route.method === "GET"))
        throw methodNotAllowed(method, path, allowed);
      const guarded =
        route.protected || (route.name === "metrics" && registry.config.server.metricsRequireKey);
      if (guarded && !this.#keys.open) {
        const key = presentedKey(request.headers);
        if (key === undefined || !this.#keys.accepts(key)) throw unauthorized(key !== undefined);
      }
      if (route.method === "POST" && !isJsonContentType(request.headers["content-type"]))
        throw unsupportedMediaType(request.headers["content-type"]);
      await this.#answer(context, route, path);
    } catch (error) {
      await this.#answerError(context, error);
    } finally {
      this.#open.delete(open);
      if (this.#open.size === 0) for (const waiter of this.#idleWaiters.splice(0)) waiter();
      const routeName = route?.name ?? "unknown";
      // 499 (nginx's "client closed request") keeps abandoned requests apart in metrics.
      const status = controller.aborted && !context.endedByShutdown ? 499 : response.statusCode;
      const seconds = (performance.now() - startedAt) / 1000;
      registry.metrics.requests.inc([routeName, String(status)]);
      registry.metrics.requestDuration.observe([routeName], seconds);
      if (logger.isLevelEnabled("info"))
        logger.info(
          {
            requestId,
            method,
            route: routeName,
            path: shownPath(path),
            status,
            durationMs: Math.round(seconds * 1000),
            provider: context.provider,
            failedAttempts: context.failedAttempts,
          },
          "request",
        );
    }
  }

  async #answer(context: RequestContext, route: RouteMatch, path: string): Promise<void> {
    const registry = this.#registry;
    const { response } = context;
    switch (route.name) {
      case "chat":
      case "images": {
        const body = await readJsonBody(context.request, registry.config.server.bodyLimitBytes);
        if (route.name === "chat") await handleChatCompletion(context, body, route.parameter);
        else await handleImageGeneration(context, body, route.parameter);
        return;
      }
      case "models":
        sendJson(response, 200, registry.modelsBody);
        return;
      case "model": {
        const listing = registry.router.listing.find((model) => model.name === route.parameter);
        if (listing === undefined)
          throw new HttpError(404, `The model "${route.parameter}" does not exist`, {
            code: "model_not_found",
            param: "model",
          });
        sendJson(response, 200, JSON.stringify(registry.modelObject(listing)));
        return;
      }
      case "provider_models": {
        const entry = registry.router.findEntry(route.parameter ?? "");
        if (entry === undefined)
          throw new HttpError(404, `No provider has the id "${route.parameter}"`, {
            code: "provider_not_found",
          });
        const { provider } = entry;
        const names = [
          ...new Set([...provider.getModels(), ...Object.keys(provider.modelAliases)]),
        ];
        sendJson(
          response,
          200,
          JSON.stringify({
            object: "list",
            data: names.map((name) => ({
              id: name,
              object: "model",
              created: registry.createdAt,
              owned_by: entry.id,
              type: provider.imageModels.includes(name) ? "image" : "chat",
            })),
          }),
        );
        return;
      }
      case "providers":
        sendJson(
          response,
          200,
          JSON.stringify({
            object: "list",
            data: registry.describeProviders(),
            skipped: registry.problems,
          }),
        );
        return;
      case "healthz": {
        const enabled = registry.entries.filter((entry) => entry.enabled).length;
        sendJson(
          response,
          this.#shuttingDown ? 503 : 200,
          JSON.stringify({
            status: this.#shuttingDown ? "shutting_down" : "ok",
            providers: registry.entries.length,
            enabled,
          }),
        );
        return;
      }
      case "metrics": {
        const text = registry.renderMetrics(this.#open.size);
        response.writeHead(200, {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
          "content-length": Buffer.byteLength(text),
        });
        response.end(text);
        return;
      }
      default:
        throw notFoundRoute(context.request.method ?? "GET", path);
    }
  }

  async #answerError(context: RequestContext, error: unknown): Promise<void> {
    const { response } = context;
    if (response.headersSent) {
      // Only a committed stream has sent headers, and it writes its own error event.
      if (!response.writableEnded) response.destroy();
      return;
    }
    if (context.signal.aborted && !context.endedByShutdown) {
      // The client is gone: nobody to answer.
      if (!response.destroyed) response.destroy();
      return;
    }
    // A body left unread (refused before or while reading it) is read to its end
    // (within a bound) and dropped before the answer, so the client sees the answer
    // and not a reset on its upload, and the connection closes after it.
    const { request } = context;
    const hasBody =
      request.headers["transfer-encoding"] !== undefined ||
      Number(request.headers["content-length"] ?? 0) > 0;
    if (hasBody && !request.complete) {
      response.setHeader("connection", "close");
      await discardRequestBody(
        request,
        discardBytesOf(this.#registry.config.server.bodyLimitBytes),
        discardMs,
      );
      if (response.destroyed || (context.signal.aborted && !context.endedByShutdown)) return;
    }
    if (error instanceof HttpError) {
      sendError(response, error);
      return;
    }
    if (context.endedByShutdown) {
      sendError(response, shuttingDown());
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    context.logger?.error(
      {
        requestId: context.requestId,
        error: message,
        name: error instanceof Error ? error.name : typeof error,
        provider: ProviderError.isInstance(error) ? error.provider : undefined,
      },
      "unexpected error",
    );
    sendError(
      response,
      new HttpError(500, "The server failed to answer the request", { code: "internal_error" }),
    );
  }
}

export interface StartServerOptions extends CreateRegistryOptions {
  /** A registry built already; otherwise one is created from the other options. */
  registry?: Registry;
  /** Default: the config's `server.host` (127.0.0.1). */
  host?: string;
  /** Default: the config's `server.port` (1337); 0 picks a free port. */
  port?: number;
}

/** A listening registry server. */
export interface RunningServer {
  /** `http://<host>:<port>`, without a trailing slash. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly httpServer: Server;
  /** Requests being answered right now. */
  openRequests(): number;
  /**
   * Stop accepting connections, let open requests (streams too) finish within
   * `graceMs` (default: the config's `server.shutdownGraceMs`), then end the rest
   * (a stream gets a final error event) and close every connection. Calling it
   * again returns the same promise.
   */
  close(graceMs?: number): Promise<void>;
  /**
   * Close without a grace period, or cut short the one of a close in progress:
   * every open request ends now (a stream with its final error event). Returns the
   * promise of the close.
   */
  closeNow(): Promise<void>;
}

/** How long aborted requests get to write their last event before connections close. */
const abortedRequestsWaitMs = 3_000;

/**
 * Serve the OpenAI HTTP API of a registry.
 *
 * @example
 * const server = await startServer({ configPath: "g4f.config.json", port: 1337 });
 * // later: await server.close();
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const registry = options.registry ?? (await createRegistry(options));
  const host = options.host ?? registry.config.server.host;
  const handler = new RegistryHttpHandler(registry, host);
  const { headersTimeoutMs, maxConnections } = registry.config.server;
  // Node looks for connections past their header or request timeout on this
  // interval (30 s by default), which adds to how long a silent connection lives.
  const httpServer = createServer(
    { connectionsCheckingInterval: Math.min(5_000, Math.max(100, headersTimeoutMs / 4)) },
    handler.listener,
  );
  // Bounds receiving a request (headers and body) only; answers, streams included,
  // are bounded by the registry's own attempt timers.
  httpServer.requestTimeout = Math.max(120_000, headersTimeoutMs);
  httpServer.headersTimeout = headersTimeoutMs;
  httpServer.keepAliveTimeout = 5_000;
  httpServer.on("clientError", handler.clientErrorListener);
  capConnections(httpServer, maxConnections ?? defaultMaxConnections());
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port ?? registry.config.server.port, host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  let endGrace: () => void = () => undefined;
  const graceEnded = new Promise<boolean>((resolve) => {
    endGrace = () => resolve(false);
  });

  const close = async (graceMs: number): Promise<void> => {
    handler.beginShutdown();
    // The listener stays open through the grace period, so that `/healthz` can say
    // 503 shutting_down and other new requests get a 503, not a refused connection.
    httpServer.closeIdleConnections();
    if (!(await Promise.race([handler.waitForIdle(graceMs), graceEnded]))) {
      handler.abortOpenRequests();
      // Each aborted stream still writes its error event: on a starved machine that
      // took over a second for 50 streams, and a connection closed before it is a
      // silent cut. Bounded (a client that stops reading holds its stream), and
      // within the CLI's last-resort exit at grace + 5 s.
      await handler.waitForIdle(abortedRequestsWaitMs);
    }
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    httpServer.closeAllConnections();
    await closed;
  };

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    registry,
    httpServer,
    openRequests: () => handler.openRequests(),
    close: (graceMs = registry.config.server.shutdownGraceMs) => {
      closing ??= close(graceMs);
      return closing;
    },
    closeNow: () => {
      endGrace();
      closing ??= close(0);
      return closing;
    },
  };
}
