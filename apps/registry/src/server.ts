import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { AbortError } from "@g4f-ts/provider-core";
import { RandomUuids } from "@g4f-ts/provider-core/internal";
import type { Logger } from "pino";
import { type AccessRecord, logAccess } from "./access-log.js";
import { clientErrorAnswer } from "./client-error-answer.js";
import { capConnections, defaultMaxConnections } from "./connection-cap.js";
import { CorsPolicy } from "./cors-policy.js";
import { answerError } from "./error-answer.js";
import { GracefulClose } from "./graceful-close.js";
import { HostAllowlist } from "./host-allowlist.js";
import {
  hostNotAllowed,
  methodNotAllowed,
  notFoundRoute,
  originNotAllowed,
  shuttingDown,
  unsupportedMediaType,
} from "./http-errors.js";
import { isJsonContentType } from "./json-content-type.js";
import type { KeyAdmission } from "./key-rate-limits.js";
import { type OpenRequest, OpenRequests } from "./open-requests.js";
import { type CreateRegistryOptions, createRegistry, type Registry } from "./registry.js";
import { type AbortSource, RequestAbort } from "./request-abort.js";
import type { RequestContext } from "./request-context.js";
import { RouteAccess } from "./route-access.js";
import { answerRoute, type RouteEnd, type ServerState } from "./route-answers.js";
import { matchRoute, type RouteName } from "./routes.js";

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

const requestIds = new RandomUuids();

/** The client's `x-request-id` when it is a sane token, else a new one (a random UUID). */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && requestIdPattern.test(given) ? given : requestIds.next();
}

/**
 * The HTTP side of a registry: it checks the host, CORS, the method, the API key
 * and the content type, then hands the request to its route (`route-answers.ts`),
 * maps failures to OpenAI's error shape (`error-answer.ts`), logs the access
 * (`access-log.ts`) and keeps the open requests graceful shutdown needs
 * (`open-requests.ts`). `listener` is a plain `(request, response)` function for
 * `node:http` (or any server that takes one).
 */
export class RegistryHttpHandler {
  readonly #registry: Registry;
  readonly #access: RouteAccess;
  readonly #hosts: HostAllowlist;
  readonly #cors: CorsPolicy;
  readonly #open = new OpenRequests();
  /** The answers in progress on each connection (pipelined ones queue), for client errors that arrive on it. */
  readonly #answering = new WeakMap<Duplex, ServerResponse[]>();
  #shuttingDown = false;
  /** What the routes read of the server, read when they ask: one object for every request. */
  readonly #serverState: ServerState;

  /** `listeningHost`: the address the server listens on, a name its clients may use (default: the config's). */
  constructor(registry: Registry, listeningHost = registry.config.server.host) {
    this.#registry = registry;
    const { server } = registry.config;
    this.#access = new RouteAccess(server.apiKeys, server.metricsRequireKey);
    this.#hosts = new HostAllowlist(server.allowedHosts, listeningHost);
    this.#cors = new CorsPolicy(server.corsOrigins);
    const handler = this;
    this.#serverState = {
      get shuttingDown() {
        return handler.#shuttingDown;
      },
      get openRequests() {
        return handler.#open.size;
      },
    };
  }

  readonly listener = (request: IncomingMessage, response: ServerResponse): void => {
    this.#handle(request, response);
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
    socket.end(clientErrorAnswer(error.code));
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
    return this.#open.waitForIdle(timeoutMs);
  }

  /** End every open request: a committed stream gets a final error event saying why. */
  abortOpenRequests(): void {
    this.#open.abortAll();
  }

  /**
   * Not an async function: the request's end is told by its route (`RouteEnd`),
   * so a chat request makes no promise here, no `await` of the route's promise,
   * and no object to hold the open request beyond its `RequestExchange`.
   */
  #handle(request: IncomingMessage, response: ServerResponse): void {
    const startedAt = performance.now();
    const registry = this.#registry;
    const requestId = requestIdOf(request);
    const url = request.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = request.method ?? "GET";
    const route = matchRoute(path, method);
    // A chat answer writes `x-request-id` with its head (see `answerHead`) where
    // nothing else sets a header before the answer (CORS, key limits, a shutdown):
    // there the header keeps its place, first, and the head is one `writeHead`.
    const requestIdPending =
      route?.name === "chat" &&
      !this.#cors.enabled &&
      !registry.state.keyLimits.enabled &&
      !this.#shuttingDown;
    if (!requestIdPending) response.setHeader("x-request-id", requestId);
    if (this.#shuttingDown) response.setHeader("connection", "close");
    const controller = new RequestAbort();
    // The request's context, its open request and its end are one object.
    const exchange = new RequestExchange(
      registry,
      request,
      response,
      requestId,
      controller,
      registry.logger.isLevelEnabled("warn") ? registry.logger : undefined,
      requestIdPending,
      this.#open,
      startedAt,
      method,
      route?.name ?? "unknown",
      path,
    );
    this.#open.add(exchange);
    const { socket } = request;
    let answering = this.#answering.get(socket);
    if (answering === undefined) {
      answering = [];
      this.#answering.set(socket, answering);
    }
    answering.push(response);
    // One listener for both (a response closes once): it leaves the connection's
    // answers, and the client leaving (the response closing before it finished)
    // cancels the upstream call at once: the signal reaches the provider's socket.
    response.on("close", () => {
      leave(answering, response);
      if (!response.writableFinished)
        controller.abort(new AbortError({ message: "The client closed the request" }));
    });

    try {
      const { host } = request.headers;
      if (!this.#hosts.accepts(host)) throw hostNotAllowed(host ?? "");
      this.#cors.decorate(request, response);
      if (route === undefined) throw notFoundRoute(method, path);
      const allowed =
        route.name === "response"
          ? "GET, HEAD, DELETE"
          : route.method === "GET"
            ? "GET, HEAD"
            : route.method;
      if (method === "OPTIONS" && this.#cors.enabled) {
        const { origin } = request.headers;
        if (!this.#cors.allows(origin)) throw originNotAllowed(origin ?? "(none)");
        this.#cors.answerPreflight(request, response, allowed);
        exchange.answered();
        return;
      }
      if (this.#shuttingDown && route.name !== "healthz") throw shuttingDown();
      // HEAD is GET without the body (Node leaves the body out of a HEAD answer).
      if (method !== route.method && !(method === "HEAD" && route.method === "GET"))
        throw methodNotAllowed(method, path, allowed);
      this.#access.check(route, request.headers);
      if (route.method === "POST" && !isJsonContentType(request.headers["content-type"]))
        throw unsupportedMediaType(request.headers["content-type"]);
      // Without limited keys there is nothing to count: no promise to wait for.
      const { keyLimits } = registry.state;
      if (keyLimits.enabled && (route.name === "chat" || route.name === "images")) {
        keyLimits.admit(request.headers).then(
          (admission) => {
            exchange.admission = admission;
            try {
              for (const [name, value] of Object.entries(admission?.headers ?? {}))
                response.setHeader(name, value);
              answerRoute(exchange, route, path, this.#serverState, exchange);
            } catch (error) {
              exchange.failed(error);
            }
          },
          (error: unknown) => exchange.failed(error),
        );
        return;
      }
      answerRoute(exchange, route, path, this.#serverState, exchange);
    } catch (error) {
      exchange.failed(error);
    }
  }
}

/**
 * Take `response` out of a connection's answers. A list rather than a `Set`: it
 * holds one answer but for pipelining, and a `Set` that goes from one entry to none
 * and back on every request reallocates its table each time; the order does not
 * matter (the answers are only asked whether any has begun).
 */
function leave(answering: ServerResponse[], response: ServerResponse): void {
  const index = answering.indexOf(response);
  if (index === -1) return;
  answering[index] = answering[answering.length - 1] as ServerResponse;
  answering.pop();
}

/**
 * One request from its arrival to its access log: the context every route handler
 * gets, the open request graceful shutdown sees, and the end its route reports to
 * (`RouteEnd`), which answers a failure with OpenAI's error shape, then counts and
 * logs the request. One object rather than three: a request makes fewer of them.
 */
class RequestExchange implements RequestContext, OpenRequest, RouteEnd, AccessRecord {
  endedByShutdown = false;
  openIndex = -1;
  /** For the access log, set when the request ends: the answer's status (499 when the client left first). */
  status = 0;
  /** For the access log, set when the request ends. */
  seconds = 0;
  provider: string | undefined = undefined;
  failedAttempts = 0;
  tokensUsed: number | undefined = undefined;
  /** The key's admission, when the key's rate limits counted the request. */
  admission: KeyAdmission | undefined = undefined;

  constructor(
    readonly registry: Registry,
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    readonly requestId: string,
    readonly controller: RequestAbort,
    readonly logger: Logger | undefined,
    public requestIdPending: boolean,
    readonly open: OpenRequests,
    readonly startedAt: number,
    readonly method: string,
    readonly route: RouteName,
    readonly path: string,
  ) {}

  get signal(): AbortSource {
    return this.controller;
  }

  answered(): void {
    this.#finish();
  }

  failed(error: unknown): void {
    const { response } = this;
    // An error answer sets its headers one by one: the request id goes first, as ever.
    if (this.requestIdPending && !response.headersSent) {
      this.requestIdPending = false;
      response.setHeader("x-request-id", this.requestId);
    }
    answerError(this, error, this.registry.config.server.bodyLimitBytes).then(
      () => this.#finish(),
      (answerFailure: unknown) => {
        this.#finish();
        throw answerFailure;
      },
    );
  }

  #finish(): void {
    this.admission?.finish(this.tokensUsed ?? 0);
    this.open.delete(this);
    // 499 (nginx's "client closed request") keeps abandoned requests apart in metrics.
    this.status = this.controller.aborted && !this.endedByShutdown ? 499 : this.response.statusCode;
    this.seconds = (performance.now() - this.startedAt) / 1000;
    // The request is its own access record: no object of the fields is built.
    logAccess(this.registry, this.registry.logger, this);
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
  const closing = new GracefulClose(httpServer, handler);
  // A registry the server made is the server's to close (its Redis connections); one handed in is the caller's.
  const closeOwnRegistry = () => (options.registry === undefined ? registry.close() : undefined);

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    registry,
    httpServer,
    openRequests: () => handler.openRequests(),
    close: (graceMs = registry.config.server.shutdownGraceMs) =>
      closing.close(graceMs).then(closeOwnRegistry),
    closeNow: () => closing.closeNow().then(closeOwnRegistry),
  };
}
