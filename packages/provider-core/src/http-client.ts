import { Agent, type Dispatcher, ProxyAgent, util as undiciUtil } from "undici";
import type { ZodType } from "zod";
import type { CallControl } from "./call-control.js";
import { EncodedJson } from "./client-messages-json.js";
import { DeadlineClock } from "./deadline-clock.js";
import { type DeadlineHandlers, DeadlineTimer } from "./deadline-timer.js";
import { createPooledConnector } from "./pooled-connector.js";
import {
  AbortError,
  InvalidResponseError,
  type ProviderError,
  ResponseTooLargeError,
  TimeoutError,
} from "./provider-errors.js";
import { formatSchemaIssues } from "./schema-errors.js";
import { redactSecrets, secretsOfHeaders, secretsOfUrl } from "./secret-redaction.js";
import { errorFromStatus, toProviderError, upstreamSnippet } from "./status-errors.js";

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
  /**
   * A JSON value sent as the body, with `content-type: application/json`; an
   * `EncodedJson` is sent as its bytes.
   */
  json?: unknown;
  body?: string;
  /** An `http://` or `https://` proxy URL. */
  proxy?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * A caller's cancellation and deadline clock (see `CallControl`), honoured as
   * `signal` is, without an `AbortSignal` listener: its abort ends the call with
   * the same `AbortError`, and the call's deadlines run on its clock's one timer.
   */
  control?: CallControl | undefined;
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
  /**
   * The values this request must keep out of errors (its secret headers, proxy
   * credentials and the caller's `secrets`): readers of the body scrub them from
   * every error they make of it.
   */
  readonly secrets?: readonly string[];
}

const maxErrorBodyBytes = 64 * 1024;
const defaultMaxBodyBytes = 16 * 1024 * 1024;

/**
 * The pooled dispatchers by proxy ("" for none), then by connect timeout: a lookup
 * per call makes no key string (a string made per call is hashed afresh each time).
 */
const dispatchers = new Map<string, Map<number, Dispatcher>>();

/** Every pooled dispatcher, forgotten: the next call makes new ones. */
function takeDispatchers(): Dispatcher[] {
  const all: Dispatcher[] = [];
  for (const byTimeout of dispatchers.values()) all.push(...byTimeout.values());
  dispatchers.clear();
  return all;
}

/**
 * The pooled dispatcher for a proxy (or none) and a connect timeout. undici's Agent
 * keeps a connection pool per origin, so every provider that talks to the same
 * origin shares warm sockets.
 */
export function getDispatcher(proxy: string | undefined, connectTimeoutMs: number): Dispatcher {
  const proxyKey = proxy ?? "";
  let byTimeout = dispatchers.get(proxyKey);
  if (byTimeout === undefined) {
    byTimeout = new Map();
    dispatchers.set(proxyKey, byTimeout);
  }
  let dispatcher = byTimeout.get(connectTimeoutMs);
  if (dispatcher === undefined) {
    const common = { connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 10_000 };
    dispatcher =
      proxy === undefined
        ? new Agent({ ...common, connect: createPooledConnector({ timeout: connectTimeoutMs }) })
        : new ProxyAgent({ uri: proxy, ...common });
    byTimeout.set(connectTimeoutMs, dispatcher);
  }
  return dispatcher;
}

/** Close every pooled connection (for tests and graceful shutdown); waits for calls in flight. */
export async function closeDispatchers(): Promise<void> {
  const all = takeDispatchers();
  await Promise.all(all.map((dispatcher) => dispatcher.close()));
}

/**
 * Close every pooled connection as {@link closeDispatchers} does, but wait at most
 * `timeoutMs` for the calls in flight: past it they fail with an `AbortError` and
 * their sockets are destroyed, so that a shutdown never waits on an upstream that
 * does not answer.
 */
export async function closeDispatchersWithin(timeoutMs: number): Promise<void> {
  const all = takeDispatchers();
  const remaining = new Set(callsInFlight);
  if (remaining.size > 0) {
    let timer: NodeJS.Timeout | undefined;
    let watch: DrainWatch | undefined;
    const drained = await new Promise<boolean>((resolve) => {
      watch = { remaining, done: () => resolve(true) };
      drainWatches.add(watch);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    clearTimeout(timer);
    if (watch !== undefined) drainWatches.delete(watch);
    if (!drained) {
      for (const call of remaining) call.cut();
      // Destroy, not close: a closing pool would still wait for a connect in progress.
      await Promise.all(all.map((dispatcher) => dispatcher.destroy()));
      return;
    }
  }
  await Promise.all(all.map((dispatcher) => dispatcher.close()));
}

/** Calls that have not finished, for {@link closeDispatchersWithin}. */
const callsInFlight = new Set<HttpCall>();

/** A wait for a set of calls to finish. */
interface DrainWatch {
  remaining: Set<HttpCall>;
  done: () => void;
}
const drainWatches = new Set<DrainWatch>();

/** Origin and path of a request URL, parsed once per distinct URL. */
interface RequestTarget {
  origin: string;
  path: string;
}

const targets = new Map<string, RequestTarget>();
const maxCachedTargets = 1024;

function targetOf(url: string): RequestTarget {
  let target = targets.get(url);
  if (target === undefined) {
    const parsed = new URL(url);
    target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    // Providers call a handful of endpoints; a caller building URLs per request
    // must not grow this without bound.
    if (targets.size >= maxCachedTargets) targets.clear();
    targets.set(url, target);
  }
  return target;
}

/** Body bytes queued for a consumer that is not reading before the socket is paused. */
const bodyHighWaterMark = 64 * 1024;

const doneResult: IteratorResult<Uint8Array> = { done: true, value: undefined };
const onceOption = { once: true } as const;

/** What a call's errors need to know of it. */
class TransportContext {
  readonly provider: string;
  readonly connectTimeoutMs: number;
  readonly firstByteTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly #request: HttpRequestOptions;
  #secrets: readonly string[] | undefined;

  constructor(request: HttpRequestOptions, timeouts: HttpTimeouts) {
    this.provider = request.provider;
    this.connectTimeoutMs = timeouts.connectMs;
    this.firstByteTimeoutMs = timeouts.firstByteMs;
    this.idleTimeoutMs = timeouts.idleMs;
    this.#request = request;
  }

  /**
   * The values the call's errors must not hold: its secret headers' credentials, its
   * proxy's password, the caller's `secrets`. Worked out at the first failure: a
   * call that succeeds never pays for it.
   */
  get secrets(): readonly string[] {
    this.#secrets ??= [
      ...secretsOfHeaders(this.#request.headers),
      ...secretsOfUrl(this.#request.proxy),
      ...(this.#request.secrets ?? []),
    ];
    return this.#secrets;
  }
}

/**
 * The clock of the calls made without a caller's (a `CallControl`'s): one timer for
 * all of them, armed for the soonest deadline, rather than a clock and a
 * `setTimeout` armed and cleared per call. The deadlines stay exact (the timer never
 * fires later than the soonest one; one that fires early, for a deadline since taken
 * off, arms itself again), and the timer stops with the last call, as a call's own
 * did. Under load the per-call timer was the largest piece of a call's set-up that
 * removing saved CPU in every run of `bench/floor.mjs`.
 */
const callsClock = new DeadlineClock();

/** The raw headers of an answer as undici hands them over: name, value, name, value. */
type RawHeaders = Buffer[] | string[];

/** What undici's connection hands a handler to stop a request: idempotent, takes the reason. */
type AbortRequest = (reason?: Error) => void;

const noHeaders: RawHeaders = [];

/**
 * One request in flight, as undici's dispatch handler: it owns the call's timers,
 * its cancellation and the queue of body pieces a consumer reads. Built on
 * `dispatch` rather than `undici.request` so that a call costs no `AbortController`,
 * no `Readable` and no stream async iterator; the work per call is what the
 * socket needs, and the timers and abort stay exact.
 *
 * It is a handler of undici's connection-level interface (`onConnect`, `onHeaders`,
 * `onData`, `onComplete`, `onError`), the one undici's client calls itself, rather
 * than of the controller interface (`onRequestStart`, `onResponseStart`, ...), which
 * undici serves through an adapter: per call an adapter and a controller object, the
 * answer's headers parsed into an object before the handler sees them and its
 * trailers parsed into another. Here the raw headers are kept and parsed, by the same
 * undici function, only when `headers` is read (a status error, a caller that looks):
 * the same object the adapter would have made. Pausing, resuming and aborting are
 * what the adapter's controller does: `onData` answers false to pause, the `resume`
 * given with the headers resumes, the `abort` given at connect aborts.
 */
class HttpCall
  implements
    Dispatcher.DispatchHandler,
    DeadlineHandlers,
    HttpResponse,
    AsyncIterable<Uint8Array>,
    AsyncIterator<Uint8Array>
{
  status = 0;
  #rawHeaders: RawHeaders = noHeaders;
  #headers: Record<string, string | string[] | undefined> | undefined;
  /** undici's abort of this request, given once it reached a connection. */
  #abort: AbortRequest | undefined;
  /** undici's resume of this response's socket, given with the headers. */
  #resume: (() => void) | undefined;
  #failure: ProviderError | undefined;
  #started = false;
  #ended = false;
  #finished = false;
  #paused = false;
  readonly #chunks: Buffer[] = [];
  #queuedBytes = 0;
  #startResolve: ((answer: HttpResponse | Promise<HttpResponse>) => void) | undefined;
  #startReject: ((error: ProviderError) => void) | undefined;
  #readResolve: ((result: IteratorResult<Uint8Array>) => void) | undefined;
  #readReject: ((error: ProviderError) => void) | undefined;
  /** Who waits for the answer without a promise (see `whenAnswered`), until told. */
  #answerListener: AnswerListener | undefined;
  /** First byte (then the idle gap) and the total, on one timer. */
  readonly #deadlines: DeadlineTimer;
  readonly #context: TransportContext;
  readonly #signal: AbortSignal | undefined;
  readonly #control: CallControl | undefined;
  /** A non-2xx answer is a status error rather than a response (`throwOnStatus`). */
  readonly #failOnStatus: boolean;
  readonly #totalMs: number;

  constructor(
    context: TransportContext,
    totalMs: number,
    signal: AbortSignal | undefined,
    control: CallControl | undefined,
    failOnStatus: boolean,
  ) {
    this.#context = context;
    this.#signal = signal;
    this.#control = control;
    this.#failOnStatus = failOnStatus;
    // On the caller's clock when it has one: its deadlines and these share a timer.
    this.#totalMs = totalMs;
    // The call is its timer's handlers (onPhase, onTotal): no closures per call for them.
    this.#deadlines = new DeadlineTimer(
      context.firstByteTimeoutMs,
      totalMs,
      this,
      control?.clock ?? callsClock,
    );
    signal?.addEventListener("abort", this.#onAbort, onceOption);
    control?.addEventListener("abort", this.#onAbort);
  }

  /**
   * Resolves with the call itself (it is its own response) when the response
   * headers arrived, or, for a non-2xx status when `throwOnStatus` holds, rejects
   * with its status error once the start of its body is read; rejects with the
   * call's `ProviderError`. One promise from dispatch to response.
   */
  started(): Promise<HttpResponse> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#started) return Promise.resolve(this.#answer());
    return new Promise<HttpResponse>((resolve, reject) => {
      this.#startResolve = resolve;
      this.#startReject = reject;
    });
  }

  /** What `started()` settles with once the headers are in: the call, or its status error. */
  #answer(): HttpResponse | Promise<HttpResponse> {
    if (!this.#failOnStatus || (this.status >= 200 && this.status < 300)) return this;
    return statusFailure(this, this.#context.provider);
  }

  /**
   * `started()` told to `listener` rather than through a promise: once the headers
   * are in (or at once, when they are), a microtask later, as a reaction to the
   * promise would run, its `answered` gets what the promise would have resolved
   * with, or its `answerFailed` the failure it would have rejected with (a status
   * error included). One listener, told once.
   */
  whenAnswered(listener: AnswerListener): void {
    this.#answerListener = listener;
    if (this.#started || this.#failure !== undefined) this.#queueTellAnswer();
  }

  // A closure made only for a call that has a listener to tell.
  #queueTellAnswer(): void {
    queueMicrotask(() => this.#tellAnswer());
  }

  // As the promise: settled by whichever came first, the headers or a failure.
  #tellAnswer(): void {
    const listener = this.#answerListener;
    if (listener === undefined) return;
    this.#answerListener = undefined;
    if (!this.#started) {
      listener.answerFailed(this.#failure);
      return;
    }
    const answer = this.#answer();
    if (answer instanceof Promise) answer.then(undefined, (error) => listener.answerFailed(error));
    else listener.answered(answer);
  }

  /** The answer's headers, as undici's `parseHeaders` makes them (lower-case names), on first read. */
  get headers(): Record<string, string | string[] | undefined> {
    this.#headers ??= undiciUtil.parseHeaders(this.#rawHeaders) as Record<
      string,
      string | string[] | undefined
    >;
    return this.#headers;
  }

  /**
   * One header of the answer, by its lower-case ASCII name: what `headers[name]` holds
   * (a string, a list for a repeated header, undefined), found in the raw headers
   * without making the object of them all: the names are compared as bytes, and only
   * the values of the header asked for become strings.
   */
  header(name: string): string | string[] | undefined {
    if (this.#headers !== undefined || name in Object.prototype) return this.headers[name];
    const raw = this.#rawHeaders;
    let found: string | string[] | undefined;
    for (let index = 0; index < raw.length; index += 2) {
      const key = raw[index] as Buffer | string;
      if (!isHeaderNamed(key, name)) continue;
      const value = latin1Of(raw[index + 1] as Buffer | string);
      if (found === undefined) found = value;
      else if (typeof found === "string") found = [found, value];
      else found.push(value);
    }
    return found;
  }

  // The call is its own response, body and body iterator: a call allocates no
  // closures for them.
  get body(): AsyncIterable<Uint8Array> {
    return this;
  }

  get secrets(): readonly string[] {
    return this.#context.secrets;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    return this.read();
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.close();
    return Promise.resolve(doneResult);
  }

  async text(maxBytes = defaultMaxBodyBytes): Promise<string> {
    const parts: Buffer[] = [];
    let size = 0;
    for (;;) {
      const next = await this.read();
      if (next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) {
        this.close();
        const { provider } = this.#context;
        throw new ResponseTooLargeError({
          provider,
          limit: maxBytes,
          limitName: "maxBytes",
          message: `${provider} sent a body over ${maxBytes} bytes`,
        });
      }
      parts.push(next.value as Buffer);
    }
    return (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)).toString("utf8");
  }

  /** The next piece of the body: queued pieces first, then the end or the failure. */
  read(): Promise<IteratorResult<Uint8Array>> {
    const ready = this.takeReady();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#readResolve = resolve;
      this.#readReject = reject;
    });
  }

  /**
   * What `read()` would resolve with at once: a queued piece, or the end once the
   * body ended and its pieces were read; undefined when `read()` would wait or
   * reject. A reader takes it without a promise and a turn of the microtask queue.
   */
  takeReady(): IteratorResult<Uint8Array> | undefined {
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) {
      this.#queuedBytes -= chunk.byteLength;
      if (this.#paused && this.#queuedBytes < bodyHighWaterMark) {
        this.#paused = false;
        this.#resume?.();
      }
      return { done: false, value: chunk };
    }
    if (this.#failure !== undefined || !this.#ended) return undefined;
    this.#finish();
    return doneResult;
  }

  /**
   * Stop the call. A body that has not ended closes its socket; one that has ended
   * is left alone, so that the connection goes back to the pool.
   */
  close(): void {
    if (this.#ended || this.#failure !== undefined) {
      this.#finish();
      return;
    }
    this.fail(
      new AbortError({ provider: this.#context.provider, message: "The response was closed" }),
    );
  }

  /** End the call with `error`: abort the request, release its socket, wake a waiting reader. */
  fail(error: ProviderError): void {
    // A body that ended and was read to its last piece has nothing left to stop; one
    // that ended with pieces still queued is stopped like one in flight (as fetch does).
    if (this.#failure !== undefined || (this.#ended && this.#chunks.length === 0)) return;
    this.#failure = error;
    this.#chunks.length = 0;
    this.#queuedBytes = 0;
    this.#finish();
    // Before the request reached a socket there is no abort yet; onConnect aborts it then.
    this.#abort?.(error);
    const startReject = this.#startReject;
    const readReject = this.#readReject;
    this.#startResolve = this.#startReject = undefined;
    this.#readResolve = this.#readReject = undefined;
    startReject?.(error);
    readReject?.(error);
    if (this.#answerListener !== undefined && !this.#started) this.#queueTellAnswer();
  }

  onConnect(abort: AbortRequest): void {
    this.#abort = abort;
    if (this.#failure !== undefined) abort(this.#failure);
  }

  onHeaders(statusCode: number, rawHeaders: RawHeaders, resume: () => void): boolean {
    // 1xx answers are informational; the real answer follows.
    if (statusCode < 200 || this.#failure !== undefined) return true;
    this.status = statusCode;
    this.#rawHeaders = rawHeaders;
    this.#resume = resume;
    this.#started = true;
    this.#deadlines.movePhase(this.#context.idleTimeoutMs);
    const resolve = this.#startResolve;
    this.#startResolve = this.#startReject = undefined;
    resolve?.(this.#answer());
    if (this.#answerListener !== undefined) this.#queueTellAnswer();
    return true;
  }

  /** A piece of the body; false pauses the socket until the consumer has read the queue down. */
  onData(chunk: Buffer): boolean {
    if (this.#failure !== undefined) return true;
    this.#deadlines.movePhase(this.#context.idleTimeoutMs);
    const resolve = this.#readResolve;
    if (resolve !== undefined) {
      this.#readResolve = this.#readReject = undefined;
      resolve({ done: false, value: chunk });
      return true;
    }
    this.#chunks.push(chunk);
    this.#queuedBytes += chunk.byteLength;
    if (!this.#paused && this.#queuedBytes >= bodyHighWaterMark) this.#paused = true;
    return !this.#paused;
  }

  onComplete(): void {
    if (this.#failure !== undefined) return;
    this.#ended = true;
    this.#deadlines.stop();
    // The abort listener stays until the consumer has read what is queued.
    if (this.#chunks.length === 0) this.#finish();
    const resolve = this.#readResolve;
    this.#readResolve = this.#readReject = undefined;
    resolve?.(doneResult);
  }

  onError(error: Error): void {
    this.fail(toProviderError(error, this.#context));
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#deadlines.stop();
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#control?.removeEventListener("abort", this.#onAbort);
    callsInFlight.delete(this);
    if (drainWatches.size > 0)
      for (const watch of drainWatches)
        if (watch.remaining.delete(this) && watch.remaining.size === 0) watch.done();
  }

  /** End the call because its connection pool is closing. */
  cut(): void {
    this.fail(
      new AbortError({
        provider: this.#context.provider,
        message: "The HTTP connections were closed (the process is shutting down)",
      }),
    );
  }

  readonly #onAbort = (): void => {
    const source = this.#control?.aborted ? this.#control : this.#signal;
    this.fail(new AbortError({ provider: this.#context.provider, cause: source?.reason }));
  };

  #expire(phase: "first-byte" | "idle" | "total", timeoutMs: number): void {
    this.fail(new TimeoutError({ provider: this.#context.provider, phase, timeoutMs }));
  }

  /** The total deadline passed (see `DeadlineHandlers`). */
  onTotal(): void {
    this.#expire("total", this.#totalMs);
  }

  /** The first-byte or idle deadline passed (see `DeadlineHandlers`). */
  onPhase(): number | undefined {
    if (!this.#started) {
      this.#expire("first-byte", this.#context.firstByteTimeoutMs);
      return undefined;
    }
    // Pieces waiting for a consumer that is not reading are not the upstream's stall.
    if (this.#chunks.length > 0 || this.#paused) return this.#context.idleTimeoutMs;
    this.#expire("idle", this.#context.idleTimeoutMs);
    return undefined;
  }
}

/** Who waits for a call's answer without a promise (see {@link waitForAnswer}). */
export interface AnswerListener {
  /** The answer's headers are in (a 2xx answer, or any when `throwOnStatus` is false). */
  answered(answer: HttpResponse): void;
  /** The call failed before its answer, or answered with a status error. */
  answerFailed(error: unknown): void;
}

/**
 * A request sent as {@link sendRequest} sends it, for a reader that waits for its
 * answer with {@link waitForAnswer} rather than a promise: the call itself, its
 * headers not yet in. What fails before the request is sent is a rejected promise,
 * as `sendRequest` gives it.
 */
export type PendingResponse = HttpResponse | Promise<HttpResponse>;

/**
 * {@link sendRequest} without the promise of its start: the pending call, whose
 * answer {@link waitForAnswer} tells its listener. The core's own readers take it
 * (a promise and its reactions fewer per call); any other reader takes the promise.
 */
export function startRequest(options: HttpRequestOptions): PendingResponse {
  try {
    return startCall(options);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * When `response` is a call of this module (see {@link startRequest}), tells
 * `listener` its answer as its start promise would settle (a microtask after the
 * headers, or after the failure) and returns true; false for any other response,
 * which the reader awaits, or reads as it is.
 */
export function waitForAnswer(response: PendingResponse, listener: AnswerListener): boolean {
  if (!(response instanceof HttpCall)) return false;
  response.whenAnswered(listener);
  return true;
}

/**
 * The next piece of a body read through `iterator` when it is already there (see
 * `HttpCall.takeReady`): the same result its `next()` would resolve with, taken
 * without a promise. Undefined when the reader must await `next()`: the piece is
 * not there yet, the body failed, or the iterator is not a call of this module.
 */
export function readyPiece(
  iterator: AsyncIterator<Uint8Array>,
): IteratorResult<Uint8Array> | undefined {
  return iterator instanceof HttpCall ? iterator.takeReady() : undefined;
}

/**
 * One header of `response` by its lower-case name, as `response.headers[name]` holds
 * it; for a call of this module read from its raw headers without parsing them all
 * (see `HttpCall.header`).
 */
export function responseHeader(
  response: HttpResponse,
  name: string,
): string | string[] | undefined {
  return response instanceof HttpCall ? response.header(name) : response.headers[name];
}

/**
 * Whether a raw header name is `name` (lower-case ASCII) once lower-cased as undici's
 * `parseHeaders` lower-cases it. The bytes of a name as received are compared with
 * ASCII letters folded: lower-casing a latin1 byte outside A-Z never yields an ASCII
 * character, so no other byte can match. A name given as a string goes through
 * undici's own function (a string's lower-casing reaches beyond latin1).
 */
function isHeaderNamed(key: Buffer | string, name: string): boolean {
  if (key.length !== name.length) return false;
  if (typeof key === "string") return undiciUtil.headerNameToString(key) === name;
  for (let index = 0; index < name.length; index++) {
    const byte = key[index] as number;
    const lower = byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
    if (lower !== name.charCodeAt(index)) return false;
  }
  return true;
}

function latin1Of(text: Buffer | string): string {
  return typeof text === "string" ? text : text.toString("latin1");
}

/**
 * Whether `iterator` is the body of `response` that `response.close()` releases
 * (a call of this module is its own body iterator, its `return()` being `close()`):
 * a reader that closes the response then need not await `return()` as well.
 */
export function closesWithResponse(
  iterator: AsyncIterator<Uint8Array>,
  response: HttpResponse,
): boolean {
  return response instanceof HttpCall && (iterator as unknown) === response;
}

function withoutContentLength(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (name.toLowerCase() !== "content-length") kept[name] = value;
  return kept;
}

/** Below this size an `EncodedJson`'s pieces go as one buffer. */
const maxJoinedBodyBytes = 64 * 1024;

/**
 * The body undici sends for an `EncodedJson`: the same bytes either way. A small
 * one is joined into one buffer, which undici writes with the request's head in one
 * corked write; an array of pieces is an iterable body to undici, written by an
 * async loop (a promise per piece, drain listeners, a write per piece), which costs
 * a short request more than the copy, while a large body (a 1 MB conversation)
 * keeps its pieces, since there the copy costs about as much as serialising it.
 */
function encodedJsonBody(
  parts: readonly Uint8Array[],
  byteLength: number,
): Uint8Array | readonly Uint8Array[] | undefined {
  if (parts.length === 1) return parts[0];
  if (byteLength <= maxJoinedBodyBytes) return Buffer.concat(parts, byteLength);
  return parts;
}

/**
 * Send one HTTP request through undici, with separate connect, first-byte, idle and
 * total timeouts and cancellation through `signal` or a caller's `control` (which
 * closes the socket at once, also mid-body, and ends a call still waiting for a
 * connection at once). A non-2xx status becomes the matching `ProviderError` (see
 * `errorFromStatus`) unless `throwOnStatus` is false. No request header value ever
 * reaches an error: secret values are scrubbed from upstream bodies too.
 *
 * Not an async function: the promise it returns is the call's own start (see
 * `HttpCall.started`), so a request costs one promise up to its response rather
 * than an async function's and the ones of its await; whatever fails before the
 * request is sent is a rejection all the same.
 */
export function sendRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  let call: HttpCall;
  try {
    call = startCall(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return call.started();
}

/**
 * The call's timeouts: the given ones over the defaults. A caller that gives all four
 * (the call pipeline does) has its object used as it is: the merge would copy the
 * same four values.
 */
function timeoutsOf(given: Partial<HttpTimeouts> | undefined): HttpTimeouts {
  if (given === undefined) return defaultHttpTimeouts;
  if (
    given.connectMs !== undefined &&
    given.firstByteMs !== undefined &&
    given.idleMs !== undefined &&
    given.totalMs !== undefined
  )
    return given as HttpTimeouts;
  return { ...defaultHttpTimeouts, ...given };
}

/** The request of {@link sendRequest} dispatched, as its call; throws what fails before. */
function startCall(options: HttpRequestOptions): HttpCall {
  const timeouts = timeoutsOf(options.timeouts);
  const { provider, control } = options;
  const callerSignal = options.signal;
  if (control?.aborted) throw new AbortError({ provider, cause: control.reason });
  if (callerSignal?.aborted) throw new AbortError({ provider, cause: callerSignal.reason });
  const context = new TransportContext(options, timeouts);

  let headers = options.headers ?? {};
  let body: string | Uint8Array | readonly Uint8Array[] | undefined = options.body;
  if (EncodedJson.isInstance(options.json)) {
    // Its pieces as they are, one after the other: undici writes an iterable body
    // piece by piece, framed by the content-length given.
    const { parts, byteLength } = options.json;
    body = encodedJsonBody(parts, byteLength);
    const framed = withoutContentLength(headers);
    framed["content-length"] = String(byteLength);
    headers = framed;
  } else if (options.json !== undefined) {
    body = JSON.stringify(options.json);
  }
  if (options.json !== undefined) {
    if (
      !("content-type" in headers) &&
      !Object.keys(headers).some((name) => name.toLowerCase() === "content-type")
    ) {
      // Object.assign and a set, not a spread with the field after it: on Node 20 that
      // literal takes the runtime's slow path (about a microsecond).
      const typed = Object.assign({}, headers);
      typed["content-type"] = "application/json";
      headers = typed;
    }
  }

  let target: RequestTarget;
  try {
    target = targetOf(options.url);
  } catch (error) {
    throw toProviderError(error, context);
  }
  // Our own timers rather than undici's headersTimeout/bodyTimeout: undici rounds
  // short timeouts up to its one-second timer tick, and a router needs them exact.
  const call = new HttpCall(
    context,
    timeouts.totalMs,
    callerSignal,
    control,
    options.throwOnStatus !== false,
  );
  callsInFlight.add(call);
  try {
    getDispatcher(options.proxy, timeouts.connectMs).dispatch(
      {
        origin: target.origin,
        path: target.path,
        method: options.method ?? (body === undefined ? "GET" : "POST"),
        headers,
        // An array of pieces is an iterable body to undici (its types name only streams).
        body: body as Dispatcher.DispatchOptions["body"],
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      call,
    );
  } catch (error) {
    // undici refuses some requests synchronously (a header value it will not send).
    call.fail(toProviderError(error, context));
  }
  return call;
}

/**
 * The status error of a non-2xx answer, with as much of its body as an error
 * message can use; an abort while that is read is the abort instead.
 */
async function statusFailure(response: HttpResponse, provider: string): Promise<never> {
  let errorBody = "";
  try {
    errorBody = await readPrefix(response, maxErrorBodyBytes);
  } catch (error) {
    if (AbortError.isInstance(error)) throw error;
  }
  throw errorFromStatus({
    provider,
    status: response.status,
    headers: response.headers,
    body: errorBody,
    secrets: response.secrets,
  });
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
  const request: HttpRequestOptions = Object.assign({}, options);
  request.method = "POST";
  return sendRequest(request);
}

/**
 * Read a whole JSON body and validate it with `schema`. Not JSON, or the wrong
 * shape, is an `InvalidResponseError` naming the path of the bad field. The
 * request's secrets (and `secrets`) never reach the error.
 */
export async function readJson<T>(
  response: HttpResponse,
  schema: ZodType<T>,
  provider: string,
  secrets?: readonly string[],
): Promise<T> {
  const text = await response.text();
  const scrubbed = () => [...(response.secrets ?? []), ...(secrets ?? [])];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Scrubbed before the cut: a cut through a secret would leave its start behind.
    const snippet = upstreamSnippet(text, scrubbed(), 120);
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
      // A path can hold an upstream's key names.
      message: `${provider} answered with an unexpected shape: ${redactSecrets(formatSchemaIssues(parsed.error), scrubbed())}`,
    });
  }
  return parsed.data;
}
