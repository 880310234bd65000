import { Agent, type Dispatcher, ProxyAgent, request } from "undici";
import type { ZodType } from "zod";
import {
  AbortError,
  InvalidResponseError,
  type ProviderError,
  TimeoutError,
} from "./provider-errors.js";
import { formatSchemaIssues } from "./schema-errors.js";
import { errorFromStatus, redactSecrets, toProviderError } from "./status-errors.js";

/** The separate waits of one HTTP call, in milliseconds. */
export interface HttpTimeouts {
  /** Opening the TCP (and TLS) connection. */
  connectMs: number;
  /** From sending the request to the response headers. */
  firstByteMs: number;
  /** The longest gap between two pieces of the body. */
  idleMs: number;
  /** The whole call, body included. */
  totalMs: number;
}

export const defaultHttpTimeouts: HttpTimeouts = {
  connectMs: 10_000,
  firstByteMs: 300_000,
  idleMs: 300_000,
  totalMs: 300_000,
};

export interface HttpRequestOptions {
  /** The provider's label, named in errors. */
  provider: string;
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** A JSON value sent as the body, with `content-type: application/json`. */
  json?: unknown;
  body?: string;
  /** An `http://` or `https://` proxy URL. */
  proxy?: string | undefined;
  signal?: AbortSignal | undefined;
  timeouts?: Partial<HttpTimeouts>;
  /** Answer a non-2xx status with a typed error (default) or hand it back. */
  throwOnStatus?: boolean;
  /**
   * Further values to keep out of errors (a device id, a session token) beside the
   * secret headers, which are always scrubbed.
   */
  secrets?: readonly string[];
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as it arrives; errors while reading are `ProviderError`s. */
  body: AsyncIterable<Uint8Array>;
  /** The whole body as text (bounded by `maxBytes`, 16 MiB by default). */
  text(maxBytes?: number): Promise<string>;
  /** Stop reading and release the connection. */
  close(): void;
}

const maxErrorBodyBytes = 64 * 1024;
const defaultMaxBodyBytes = 16 * 1024 * 1024;
const secretHeaders = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "x-api-key",
  "api-key",
]);

const dispatchers = new Map<string, Dispatcher>();

/**
 * The pooled dispatcher for a proxy (or none) and a connect timeout. undici's Agent
 * keeps a connection pool per origin, so every provider that talks to the same
 * origin shares warm sockets.
 */
export function getDispatcher(proxy: string | undefined, connectTimeoutMs: number): Dispatcher {
  const key = `${proxy ?? ""}\u0000${connectTimeoutMs}`;
  let dispatcher = dispatchers.get(key);
  if (dispatcher === undefined) {
    const common = { connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 10_000 };
    dispatcher =
      proxy === undefined ? new Agent(common) : new ProxyAgent({ uri: proxy, ...common });
    dispatchers.set(key, dispatcher);
  }
  return dispatcher;
}

/** Close every pooled connection (for tests and graceful shutdown). */
export async function closeDispatchers(): Promise<void> {
  const all = [...dispatchers.values()];
  dispatchers.clear();
  await Promise.all(all.map((dispatcher) => dispatcher.close()));
}

function secretValues(headers: Record<string, string> | undefined): string[] {
  const secrets: string[] = [];
  if (headers === undefined) return secrets;
  for (const [name, value] of Object.entries(headers)) {
    if (!secretHeaders.has(name.toLowerCase())) continue;
    secrets.push(value);
    const token = value.replace(/^(?:bearer|basic)\s+/i, "");
    if (token !== value) secrets.push(token);
  }
  return secrets;
}

/**
 * Send one HTTP request through undici, with separate connect, first-byte, idle and
 * total timeouts and cancellation through `signal` (which closes the socket at
 * once, also mid-body). A non-2xx status becomes the matching `ProviderError`
 * (see `errorFromStatus`) unless `throwOnStatus` is false. No request header value
 * ever reaches an error: secret values are scrubbed from upstream bodies too.
 */
export async function sendRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const timeouts = { ...defaultHttpTimeouts, ...options.timeouts };
  const { provider } = options;
  const transportContext = {
    provider,
    connectTimeoutMs: timeouts.connectMs,
    firstByteTimeoutMs: timeouts.firstByteMs,
    idleTimeoutMs: timeouts.idleMs,
  };
  const callerSignal = options.signal;
  if (callerSignal?.aborted) throw new AbortError({ provider, cause: callerSignal.reason });

  const controller = new AbortController();
  let reason: ProviderError | undefined;
  const onCallerAbort = () => {
    reason = new AbortError({ provider, cause: callerSignal?.reason });
    controller.abort(reason);
  };
  callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  // Our own timers rather than undici's headersTimeout/bodyTimeout: undici rounds
  // short timeouts up to its one-second timer tick, and a router needs them exact.
  const expire = (phase: "first-byte" | "idle" | "total", timeoutMs: number) => () => {
    reason = new TimeoutError({ provider, phase, timeoutMs });
    controller.abort(reason);
  };
  const totalTimer = setTimeout(expire("total", timeouts.totalMs), timeouts.totalMs);
  const firstByteTimer = setTimeout(
    expire("first-byte", timeouts.firstByteMs),
    timeouts.firstByteMs,
  );
  let idleTimer: NodeJS.Timeout | undefined;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(totalTimer);
    clearTimeout(firstByteTimer);
    clearTimeout(idleTimer);
    callerSignal?.removeEventListener("abort", onCallerAbort);
  };
  const fail = (error: unknown): ProviderError =>
    reason ?? toProviderError(error, transportContext);

  const headers: Record<string, string> = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) {
      headers["content-type"] = "application/json";
    }
  }

  let response: Dispatcher.ResponseData;
  try {
    response = await request(options.url, {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
      signal: controller.signal,
      dispatcher: getDispatcher(options.proxy, timeouts.connectMs),
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  } catch (error) {
    finish();
    throw fail(error);
  }
  clearTimeout(firstByteTimer);

  const responseBody = response.body;
  // Destroying a body that has not ended closes its socket; one that has ended is
  // left alone so that the connection goes back to the pool.
  const close = () => {
    finish();
    if (!responseBody.destroyed && !responseBody.readableEnded) responseBody.destroy();
  };

  async function* iterate(): AsyncGenerator<Uint8Array> {
    if (!finished) idleTimer = setTimeout(expire("idle", timeouts.idleMs), timeouts.idleMs);
    try {
      for await (const chunk of responseBody) {
        idleTimer?.refresh();
        yield chunk as Uint8Array;
      }
    } catch (error) {
      throw fail(error);
    } finally {
      close();
    }
  }

  async function text(maxBytes = defaultMaxBodyBytes): Promise<string> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of iterate()) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        close();
        throw new InvalidResponseError({
          provider,
          message: `${provider} sent a body over ${maxBytes} bytes`,
        });
      }
      parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return Buffer.concat(parts).toString("utf8");
  }

  const result: HttpResponse = {
    status: response.statusCode,
    headers: response.headers,
    body: { [Symbol.asyncIterator]: iterate },
    text,
    close,
  };

  if (
    options.throwOnStatus !== false &&
    (response.statusCode < 200 || response.statusCode >= 300)
  ) {
    let errorBody = "";
    try {
      errorBody = await readPrefix(result, maxErrorBodyBytes);
    } catch (error) {
      if (AbortError.isInstance(error)) throw error;
    }
    throw errorFromStatus({
      provider,
      status: response.statusCode,
      headers: response.headers,
      body: errorBody,
      secrets: [...secretValues(options.headers), ...(options.secrets ?? [])],
    });
  }
  return result;
}

// An error body is read only as far as an error message can use.
async function readPrefix(response: HttpResponse, maxBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    size += chunk.byteLength;
    if (size >= maxBytes) break;
  }
  response.close();
  return Buffer.concat(parts).toString("utf8").slice(0, maxBytes);
}

/** POST a JSON body; see {@link sendRequest}. */
export function postJson(
  options: Omit<HttpRequestOptions, "json" | "body" | "method"> & { json: unknown },
) {
  return sendRequest({ ...options, method: "POST" });
}

/**
 * Read a whole JSON body and validate it with `schema`. Not JSON, or the wrong
 * shape, is an `InvalidResponseError` naming the path of the bad field.
 */
export async function readJson<T>(
  response: HttpResponse,
  schema: ZodType<T>,
  provider: string,
  secrets?: readonly string[],
): Promise<T> {
  const text = await response.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const snippet = redactSecrets(text.slice(0, 120).trim(), secrets);
    throw new InvalidResponseError({
      provider,
      status: response.status,
      body: snippet,
      message: `${provider} answered with a body that is not JSON: ${JSON.stringify(snippet)}`,
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidResponseError({
      provider,
      status: response.status,
      message: `${provider} answered with an unexpected shape: ${formatSchemaIssues(parsed.error)}`,
    });
  }
  return parsed.data;
}
