import {
  AbortError,
  ChoiceChunk,
  type Chunk,
  ConnectionError,
  ContextLengthExceededError,
  FinishReason,
  InvalidResponseError,
  isContentChunk,
  type Messages,
  MissingAuthError,
  ModelNotSupportedError,
  PaymentRequiredError,
  ProviderError,
  type ProviderOptions,
  RateLimitError,
  type ResponseChunk,
  ResponseStatusError,
  ResponseTooLargeError,
  StreamInterruptedError,
  TimeoutError,
} from "@g4f-ts/provider-core";
import type { Logger } from "pino";
import {
  AnswerCollector,
  answerLimitName,
  defaultAnswerLimitBytes,
  type GatheredAnswer,
} from "./answer-collector.js";
import { type BatchReader, TimedAttempt } from "./attempt-stream.js";
import type { CooldownTracker } from "./cooldown.js";
import { blameFailure } from "./failure-attribution.js";
import type { FallbackObserver, FirstContentEvent } from "./fallback-observer.js";
import { type AttemptReport, HttpError } from "./http-errors.js";
import type { Candidate } from "./model-router.js";
import { messagesLength } from "./openai-wire.js";
import { type AbortSource, waitUnlessAborted } from "./request-abort.js";

/** How the fallback engine retries, what it reads and whom it tells. */
export interface FallbackSettings {
  /**
   * Registry-level retries of a retryable failure on the same provider before the
   * next candidate (default 0: providers retry internally already, and the two
   * would multiply).
   */
  retriesPerProvider: number;
  /** The first wait before such a retry; each next one doubles. */
  retryDelayMs: number;
  /** Read to skip providers that cool down and to weigh failures; written only by an observer. */
  cooldown: CooldownTracker;
  /** Counts the attempts in flight per candidate (the `least-busy` strategy reads them). */
  inFlight?: { beginAttempt(provider: string, model: string): () => void };
  /**
   * Told of each attempt and its outcome, in order (the registry's: metrics,
   * cooldown, log; see `fallback-observers.ts`).
   */
  observers: readonly FallbackObserver[];
  /**
   * The most bytes an answer sent in one piece (JSON) may hold (default 32 MiB,
   * `server.answerLimitBytes`); a streamed answer has no such limit, it is never held.
   */
  answerLimitBytes?: number;
}

/** What every attempt of one request sends. */
export interface AttemptRequest {
  /** The name the client asked for, named in errors. */
  readonly requestedModel: string;
  readonly messages: Messages;
  /** Sampling parameters and `stream`; the signal is added per attempt. */
  readonly options: ProviderOptions;
  /**
   * The options of one candidate, when they differ between candidates (a field
   * dropped for those that can not honour it; see `routeByCapabilities`); default
   * `options` for every candidate.
   */
  readonly optionsFor?: (candidate: Candidate) => ProviderOptions;
  /** The client's signal (an `AbortSignal`, or the server's cheaper `RequestAbort`): aborted when it disconnects. */
  readonly signal: AbortSource | undefined;
  /** Where failed attempts are logged (at warn), when logging is on. */
  readonly logger: Logger | undefined;
  /** Named in every log line of the request. */
  readonly requestId?: string;
  /**
   * A hashed identity of the client (`clientIdentity`): its failures cool a provider
   * down for it alone until other clients fail too (see `CooldownTracker`). Leave it
   * out for calls of the process itself (the CLI, an embedding application), which
   * are trusted; set it when the calls come from several users.
   */
  readonly client?: string;
}

/** An attempt that reached the commit point: its first content chunk has arrived. */
export interface CommittedAttempt {
  readonly candidate: Candidate;
  /**
   * The chunks up to and including the first content chunk (of the metadata before
   * it, only the latest of each kind: an upstream that sends nothing else can not
   * make it grow).
   */
  readonly leading: Chunk[];
  /** The rest of the answer, with the attempt's timers still running. */
  readonly attempt: TimedAttempt;
}

/** Who hears how `FallbackRun.commitThen` ended: exactly one method, once. */
export interface CommitListener {
  committed(committed: CommittedAttempt): void;
  /** No candidate committed: the all-failed `HttpError`, or an `AbortError` when the client left. */
  failed(error: unknown): void;
}

/** The leading chunks of no attempt (a search not running). */
const noLeading: Chunk[] = [];

const emptyAnswerMarker = Symbol.for("g4f-ts.registry.EmptyAnswerError");

/** An attempt that ended without content and without an error: a failure, as in g4f. */
export class EmptyAnswerError extends ProviderError {
  readonly [emptyAnswerMarker] = true;
  override readonly name = "EmptyAnswerError";

  constructor(provider: string) {
    super({ provider, retryable: true, message: `${provider} answered without any content` });
  }

  static override isInstance(value: unknown): value is EmptyAnswerError {
    return typeof value === "object" && value !== null && emptyAnswerMarker in value;
  }
}

/** A short, stable word for why an attempt failed, for reports and metric labels. */
export function failureReason(error: unknown): string {
  if (!ProviderError.isInstance(error)) return "internal";
  if (EmptyAnswerError.isInstance(error)) return "empty";
  if (RateLimitError.isInstance(error) || error.status === 429) return "rate_limit";
  if (TimeoutError.isInstance(error)) return "timeout";
  if (ConnectionError.isInstance(error)) return "connection";
  if (StreamInterruptedError.isInstance(error)) return "interrupted";
  if (ResponseTooLargeError.isInstance(error)) return "too_large";
  if (InvalidResponseError.isInstance(error)) return "invalid_response";
  if (MissingAuthError.isInstance(error)) return "auth";
  if (PaymentRequiredError.isInstance(error)) return "payment";
  if (ContextLengthExceededError.isInstance(error)) return "context_length";
  if (ModelNotSupportedError.isInstance(error)) return "model";
  if (AbortError.isInstance(error)) return "aborted";
  if (ResponseStatusError.isInstance(error)) return "status";
  // Not retryable and without an HTTP status: the provider refused the request itself
  // (an invalid option or message) before it called its upstream.
  if (!error.retryable && error.status === undefined) return "refused";
  return "error";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The fallback engine of one request. `commit()` tries the candidates in order
 * until one yields its first content chunk (the commit point) and hands that
 * attempt over; before it, every failure (an HTTP error, a refused connection, a
 * timeout, an error event inside a 200 stream, an empty answer) is recorded and the
 * next candidate is tried, so the client never sees it. Providers in cooldown are
 * skipped. When no candidate is left, `commit()` throws the all-failed `HttpError`;
 * when the client has gone, an `AbortError`.
 */
export class FallbackRun {
  /** Every failed attempt and cooldown skip so far, in order. */
  readonly failures: AttemptReport[] = [];
  #index = 0;
  #retries = 0;
  #soonestRetryMs: number | undefined;
  #promptLength: number | undefined;
  /** The first-content event `commit(true)` held back until `releaseFirstContent()`. */
  #heldFirstContent: FirstContentEvent | undefined;
  readonly #observers: ObserversByKind;
  /** The search `commitThen` is running: whom it tells, and the attempt it is reading. */
  #listener: CommitListener | undefined;
  #holdFirstContent = false;
  #candidate: Candidate | undefined;
  #attempt: TimedAttempt | undefined;
  #leading: Chunk[] = noLeading;

  constructor(
    readonly candidates: readonly Candidate[],
    readonly request: AttemptRequest,
    readonly settings: FallbackSettings,
  ) {
    this.#observers = observersByKind(settings.observers);
  }

  /**
   * The next attempt that reached its first content chunk. With `holdFirstContent`
   * the observers hear of that first content only at `releaseFirstContent()` (once
   * the answer's first bytes were handed to the socket: the bookkeeping leaves the
   * path to the client's first byte), with the time taken when it came. Any later
   * event of the run releases it first, so observers see the same events in the
   * same order either way.
   */
  commit(holdFirstContent = false): Promise<CommittedAttempt> {
    return new Promise((resolve, reject) =>
      this.commitThen({ committed: resolve, failed: reject }, holdFirstContent),
    );
  }

  /**
   * `commit()` without its promise: the committed attempt, or why none was (the
   * all-failed `HttpError`, an `AbortError` when the client has gone), told to
   * `listener` (see {@link CommitListener}). It reads each attempt's batches
   * through `TimedAttempt.read` rather than awaiting its chunks one by one, so the
   * search costs no promise of its own; the events, their order and what is
   * committed are those of a loop awaiting `attempt.next()`: an attempt's chunks up
   * to its first content are taken one by one, the rest of that batch is left in the
   * attempt for its next read.
   */
  commitThen(listener: CommitListener, holdFirstContent = false): void {
    this.#listener = listener;
    this.#holdFirstContent = holdFirstContent;
    try {
      this.releaseFirstContent();
    } catch (error) {
      this.#endSearch(undefined, error);
      return;
    }
    this.#tryNextCandidate();
  }

  /**
   * Start the next candidate that is not cooling down, and read its first batch; or,
   * when none is left, end the search with the all-failed error.
   */
  #tryNextCandidate(): void {
    const { candidates, request, settings } = this;
    try {
      while (this.#index < candidates.length) {
        this.#throwIfClientGone();
        const candidate = candidates[this.#index] as Candidate;
        const { entry } = candidate;
        const remainingMs = settings.cooldown.remainingMs(
          entry.id,
          candidate.model,
          request.client,
        );
        if (remainingMs > 0) {
          this.#skipCoolingDown(candidate, remainingMs);
          continue;
        }
        const attempt = new TimedAttempt(
          entry.provider,
          candidate.model,
          request.messages,
          request.optionsFor?.(candidate) ?? request.options,
          request.signal,
          entry.timeouts,
          settings.inFlight?.beginAttempt(entry.id, candidate.model),
        );
        if (this.#observers.attemptStarted.length > 0)
          tell(this.#observers.attemptStarted, { candidate, request });
        this.#candidate = candidate;
        this.#attempt = attempt;
        this.#leading = [];
        attempt.read(this.#searchReader);
        return;
      }
      throw this.allFailedError();
    } catch (error) {
      this.#endSearch(undefined, error);
    }
  }

  /** What the attempt being tried hands over while the search waits for its first content. */
  readonly #searchReader: BatchReader = {
    batch: (chunks) => this.#searchBatch(chunks),
    end: () => this.#searchEnd(),
    fail: (error) => this.#searchFailure(error),
  };

  /** Take an attempt's chunks one by one up to its first content (the commit point). */
  #searchBatch(chunks: readonly Chunk[]): void {
    const candidate = this.#candidate as Candidate;
    const attempt = this.#attempt as TimedAttempt;
    const leading = this.#leading;
    try {
      for (let index = 0; index < chunks.length; index++) {
        const chunk = chunks[index] as Chunk;
        if (isContentChunk(chunk)) {
          leading.push(chunk);
          attempt.keepUnread(chunks, index + 1);
          if (this.#observers.firstContent.length > 0) {
            const event = { candidate, request: this.request, elapsedMs: attempt.elapsedMs() };
            if (this.#holdFirstContent) this.#heldFirstContent = event;
            else tell(this.#observers.firstContent, event);
          }
          this.#endSearch({ candidate, leading, attempt }, undefined);
          return;
        }
        keepLatestOfKind(leading, chunk);
      }
    } catch (error) {
      this.#searchFailure(error);
      return;
    }
    attempt.read(this.#searchReader);
  }

  /** The attempt ended before any content: a contentless answer the upstream meant, or an empty one. */
  #searchEnd(): void {
    const candidate = this.#candidate as Candidate;
    const attempt = this.#attempt as TimedAttempt;
    const leading = this.#leading;
    // A filtered or cut-off answer without text is still the upstream's answer.
    if (endsWithoutContent(leading)) {
      this.#endSearch({ candidate, leading, attempt }, undefined);
      return;
    }
    this.#searchFailure(new EmptyAnswerError(candidate.entry.provider.label));
  }

  /** The attempt failed before its commit point: record it, then retry or move on. */
  #searchFailure(error: unknown): void {
    const candidate = this.#candidate as Candidate;
    const attempt = this.#attempt as TimedAttempt;
    let waiting: Promise<void> | undefined;
    try {
      attempt.close();
      this.#cancelIfClientGone(candidate, attempt);
      this.#record(candidate, attempt, error, true);
      waiting = this.#advance(candidate, error);
    } catch (failure) {
      this.#endSearch(undefined, failure);
      return;
    }
    if (waiting === undefined) this.#tryNextCandidate();
    else
      waiting.then(
        () => this.#tryNextCandidate(),
        (failure: unknown) => this.#endSearch(undefined, failure),
      );
  }

  /** Tell the search's listener how it ended, and forget the attempt it tried. */
  #endSearch(committed: CommittedAttempt | undefined, error: unknown): void {
    const listener = this.#listener as CommitListener;
    this.#listener = undefined;
    this.#candidate = undefined;
    this.#attempt = undefined;
    this.#leading = noLeading;
    if (committed !== undefined) listener.committed(committed);
    else listener.failed(error);
  }

  /** Tell the observers of the first content `commit(true)` held back, if it still holds it. */
  releaseFirstContent(): void {
    const event = this.#heldFirstContent;
    if (event === undefined) return;
    this.#heldFirstContent = undefined;
    tell(this.#observers.firstContent, event);
  }

  /**
   * The committed attempt's answer ended well. `deliver` (the answer's last write)
   * runs first: the success's bookkeeping (metrics, statistics, cooldown) is off
   * the path to the client, and is recorded
   * however `deliver` ends (a client gone, a throw), with the attempt's time taken
   * before it, when the answer ended. No other event of the run can come between.
   */
  succeed(committed: CommittedAttempt, deliver?: () => void): void {
    // A first content still held (a stream whose whole answer came in one turn, so
    // its first flush has not come yet) is told here, before the last write.
    this.releaseFirstContent();
    const listeners = this.#observers.attemptSucceeded;
    const elapsedMs = listeners.length === 0 ? 0 : committed.attempt.elapsedMs();
    try {
      deliver?.();
    } finally {
      if (listeners.length > 0)
        tell(listeners, {
          candidate: committed.candidate,
          request: this.request,
          elapsedMs,
          promptCharacters: this.promptCharacters(),
        });
    }
  }

  /**
   * The committed attempt failed after its commit point: recorded like any failure.
   * A caller that has sent nothing yet (a JSON answer) then calls `commit()` again
   * to go on (`advance` true moves past, or retries, the failed candidate).
   */
  async failAfterCommit(
    committed: CommittedAttempt,
    error: unknown,
    advance: boolean,
  ): Promise<AttemptReport> {
    this.releaseFirstContent();
    committed.attempt.close();
    this.#cancelIfClientGone(committed.candidate, committed.attempt);
    const report = this.#record(committed.candidate, committed.attempt, error, false);
    if (advance) await this.#advance(committed.candidate, error);
    return report;
  }

  /** The client left during the committed attempt: neither the provider's success nor its failure. */
  cancel(committed: CommittedAttempt): void {
    this.releaseFirstContent();
    committed.attempt.close();
    tell(this.#observers.attemptCancelled, {
      candidate: committed.candidate,
      request: this.request,
      elapsedMs: committed.attempt.elapsedMs(),
    });
  }

  /** True when the client's signal was aborted. */
  clientGone(): boolean {
    return this.request.signal?.aborted === true;
  }

  /**
   * One OpenAI-shaped error for a request whose every candidate failed, listing each
   * attempt: 503 when all were cooling down, 429 when all were rate limited, 400
   * when the conversation was too long for all or all refused the request itself, 502
   * otherwise. It carries `x-should-retry: false` (client SDKs would otherwise
   * multiply the attempts the registry already made) and `retry-after` when known.
   */
  allFailedError(): HttpError {
    const attempted = this.failures.filter((failure) => failure.reason !== "cooldown");
    const model = this.request.requestedModel;
    const headers: Record<string, string> = { "x-should-retry": "false" };
    const retryAfterSeconds =
      this.#soonestRetryMs === undefined
        ? undefined
        : Math.max(1, Math.ceil(this.#soonestRetryMs / 1000));
    if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
    const listing = this.failures
      .map((failure) => `${failure.provider}: ${failure.message}`)
      .join("; ");
    const attempts = this.failures;
    if (this.failures.length === 0)
      return new HttpError(404, `No provider serves "${model}"`, {
        code: "model_not_found",
        param: "model",
      });
    if (attempted.length === 0)
      return new HttpError(
        503,
        `Every provider of "${model}" is cooling down after repeated failures; retry in ${retryAfterSeconds ?? 1} s`,
        { code: "providers_cooling_down", headers, attempts },
      );
    const all = (reason: string) => attempted.every((failure) => failure.reason === reason);
    const summary = `${this.failures.length === 1 ? "The only candidate" : `All ${this.failures.length} candidates`} for "${model}" failed: ${listing}`;
    if (all("rate_limit"))
      return new HttpError(429, summary, { code: "rate_limit_exceeded", headers, attempts });
    if (all("context_length"))
      return new HttpError(400, summary, {
        code: "context_length_exceeded",
        param: "messages",
        headers,
        attempts,
      });
    if (all("refused"))
      return new HttpError(400, summary, { code: "invalid_request", headers, attempts });
    return new HttpError(502, summary, { code: "all_providers_failed", headers, attempts });
  }

  #throwIfClientGone(): void {
    if (this.request.signal?.aborted)
      throw new AbortError({ message: "The client closed the request" });
  }

  /** An attempt ended by the client leaving is cancelled, not failed: observers hear of it, then the run stops. */
  #cancelIfClientGone(candidate: Candidate, attempt: TimedAttempt): void {
    if (!this.clientGone()) return;
    tell(this.#observers.attemptCancelled, {
      candidate,
      request: this.request,
      elapsedMs: attempt.elapsedMs(),
    });
    this.#throwIfClientGone();
  }

  #noteRetryAfter(milliseconds: number): void {
    if (this.#soonestRetryMs === undefined || milliseconds < this.#soonestRetryMs)
      this.#soonestRetryMs = milliseconds;
  }

  #skipCoolingDown(candidate: Candidate, remainingMs: number): void {
    const report: AttemptReport = {
      provider: candidate.entry.id,
      model: candidate.model,
      status: null,
      reason: "cooldown",
      message: `skipped: cooling down for ${Math.ceil(remainingMs / 1000)} s more`,
    };
    this.failures.push(report);
    tell(this.#observers.attemptSkipped, { candidate, request: this.request, report, remainingMs });
    this.#noteRetryAfter(remainingMs);
    this.#index++;
    this.#retries = 0;
  }

  /** The prompt's length in characters, measured once per request (when first asked). */
  promptCharacters(): number {
    this.#promptLength ??= messagesLength(this.request.messages);
    return this.#promptLength;
  }

  #record(
    candidate: Candidate,
    attempt: TimedAttempt,
    error: unknown,
    beforeContent: boolean,
  ): AttemptReport {
    const { settings, request } = this;
    const { entry } = candidate;
    const reason = failureReason(error);
    const providerError = ProviderError.isInstance(error) ? error : undefined;
    const report: AttemptReport = {
      provider: entry.id,
      model: candidate.model,
      status: providerError?.status ?? null,
      reason,
      message: messageOf(error),
    };
    this.failures.push(report);
    const blame = blameFailure(error, {
      reason,
      beforeContent,
      promptMuchLargerThanRecent: () =>
        settings.cooldown.isMuchLargerThanRecentPrompts(
          entry.id,
          candidate.model,
          this.promptCharacters(),
        ),
    });
    tell(this.#observers.attemptFailed, {
      candidate,
      request,
      report,
      error,
      blame,
      retryAfterSeconds: providerError?.retryAfter,
      elapsedMs: attempt.elapsedMs(),
    });
    if (reason === "rate_limit") {
      const waitMs = Math.max(
        (providerError?.retryAfter ?? 0) * 1000,
        settings.cooldown.remainingMs(entry.id, candidate.model, request.client),
      );
      if (waitMs > 0) this.#noteRetryAfter(waitMs);
    }
    return report;
  }

  /**
   * Retry the same candidate (a retryable failure, retries left) or move on to the
   * next. A promise only while it waits out a retry's delay.
   */
  #advance(candidate: Candidate, error: unknown): Promise<void> | undefined {
    const { settings } = this;
    const { entry } = candidate;
    const providerError = ProviderError.isInstance(error) ? error : undefined;
    // A retry-after is left to the cooldown: the next candidate is better than a wait.
    const retryHere =
      providerError?.retryable === true &&
      providerError.retryAfter === undefined &&
      this.#retries < settings.retriesPerProvider &&
      settings.cooldown.remainingMs(entry.id, candidate.model, this.request.client) === 0;
    if (retryHere) {
      this.#retries++;
      const delayMs = settings.retryDelayMs * 2 ** (this.#retries - 1);
      if (delayMs > 0) {
        return waitUnlessAborted(
          delayMs,
          this.request.signal,
          () => new AbortError({ message: "The client closed the request" }),
        );
      }
      return undefined;
    }
    this.#index++;
    this.#retries = 0;
    if (this.#index < this.candidates.length)
      tell(this.#observers.fellBack, { candidate, request: this.request });
    return undefined;
  }
}

/** The listeners of each kind of event, in the order of their observers. */
type ObserversByKind = {
  readonly [Kind in keyof FallbackObserver]-?: readonly NonNullable<FallbackObserver[Kind]>[];
};

/** Tell every listener, in order, of one event. */
function tell<Event>(listeners: readonly ((event: Event) => void)[], event: Event): void {
  for (let index = 0; index < listeners.length; index++)
    (listeners[index] as (event: Event) => void)(event);
}

const observerKinds = [
  "attemptSkipped",
  "attemptStarted",
  "firstContent",
  "attemptSucceeded",
  "attemptFailed",
  "attemptCancelled",
  "fellBack",
] as const satisfies readonly (keyof FallbackObserver)[];

/** The lists of a registry's observers, made once per list rather than once per request. */
const observerLists = new WeakMap<
  readonly FallbackObserver[],
  { count: number; byKind: ObserversByKind }
>();

/**
 * The listeners of each event kind: an event goes only to the observers with a
 * method for it (five observers, of which two or three listen to any one event), in
 * the order of the list. Made once per list (a list that grew since is listed again).
 */
function observersByKind(observers: readonly FallbackObserver[]): ObserversByKind {
  const known = observerLists.get(observers);
  if (known !== undefined && known.count === observers.length) return known.byKind;
  const byKind = Object.fromEntries(
    observerKinds.map((kind) => [
      kind,
      observers.flatMap((observer) => {
        const method = observer[kind] as ((event: unknown) => void) | undefined;
        // Bound: an observer's methods may use `this`, as when they were called on it.
        return method === undefined ? [] : [method.bind(observer)];
      }),
    ]),
  ) as unknown as ObserversByKind;
  observerLists.set(observers, { count: observers.length, byKind });
  return byKind;
}

/**
 * Keep a chunk that came before the first content: metadata (a finish reason, a
 * usage, an empty delta) only counts by its latest value, so it replaces the one
 * of its kind rather than piling up while an upstream sends nothing else.
 */
function keepLatestOfKind(leading: Chunk[], chunk: Chunk): void {
  if (typeof chunk === "string") return;
  const kind = chunkKind(chunk);
  const index = leading.findIndex((kept) => typeof kept !== "string" && chunkKind(kept) === kind);
  if (index === -1) leading.push(chunk);
  else leading[index] = chunk;
}

// A chunk of another choice (`n` > 1) is its own kind per choice.
function chunkKind(chunk: ResponseChunk): string {
  return ChoiceChunk.isInstance(chunk) && typeof chunk.chunk !== "string"
    ? `${chunk.type}:${chunk.index}:${chunk.chunk.type}`
    : chunk.type;
}

/**
 * Finish reasons that make an answer without any content a successful one: the
 * upstream filtered it (`content_filter`) or hit the token limit before any
 * visible text (`length`, a reasoning model with a small `max_completion_tokens`).
 * Such an answer is the upstream's word, not its failure; a bare end or `stop`
 * without content still is one (`empty`), as in g4f.
 */
const contentlessFinishReasons = new Set(["content_filter", "length"]);

function endsWithoutContent(leading: readonly Chunk[]): boolean {
  return leading.some((chunk) => {
    const inner = ChoiceChunk.isInstance(chunk) ? chunk.chunk : chunk;
    return FinishReason.isInstance(inner) && contentlessFinishReasons.has(inner.reason);
  });
}

/**
 * Run the fallback engine to a whole answer, for answers sent in one piece (JSON):
 * nothing reaches the client before the end, so a failure even after content
 * moves on to the next candidate. `check` may refuse a complete answer (an image
 * request answered with text only), which then counts as that attempt's failure.
 * The answer is gathered as it arrives, never more than `answerLimitBytes` of it:
 * past that, the attempt stops and a 502 `answer_too_large` naming the limit is
 * thrown, without trying other candidates (their answer would be as long).
 */
export function collectAnswer(
  run: FallbackRun,
  check?: (answer: GatheredAnswer, candidate: Candidate) => ProviderError | undefined,
  deliver?: (candidate: Candidate, answer: GatheredAnswer) => void,
): Promise<{ candidate: Candidate; answer: GatheredAnswer }> {
  const limitBytes = run.settings.answerLimitBytes ?? defaultAnswerLimitBytes;
  // Without a check the collector is the gatherer itself: no wrapper per attempt.
  if (check === undefined)
    return gatherWholeAnswer(
      run,
      (candidate) => new AnswerCollector(candidate.entry.id, limitBytes),
      deliver,
    );
  return gatherWholeAnswer(
    run,
    (candidate) => {
      const collector = new AnswerCollector(candidate.entry.id, limitBytes);
      return {
        add: (chunk) => collector.add(chunk),
        finish: () => {
          const answer = collector.answer();
          const problem = check(answer, candidate);
          if (problem !== undefined) throw problem;
          return answer;
        },
      };
    },
    deliver,
  );
}

/** Gathers one attempt's chunks into a whole answer, for {@link gatherWholeAnswer}. */
export interface WholeAnswerGatherer<Answer> {
  /** Take a chunk; throwing fails the attempt (a `ResponseTooLargeError` for `answerLimitName` ends the run). */
  add(chunk: Chunk): void;
  /** The answer once the attempt ended; throwing (a check that refuses it) fails the attempt. */
  finish(): Answer;
}

/**
 * The engine of every answer sent in one piece (a chat completion, an image, a
 * Responses object, a forwarded native answer): each committed attempt's chunks go
 * to a fresh gatherer; an attempt that fails, even after content, moves on to the
 * next candidate, since nothing reached the client yet. An answer past the limit
 * (a `ResponseTooLargeError` naming `answerLimitName`) is a 502 `answer_too_large`
 * without trying the others: their answer would be as long.
 *
 * `deliver`, when given, writes the answer before the observers hear of the
 * success (see `FallbackRun.succeed`).
 */
export function gatherWholeAnswer<Answer>(
  run: FallbackRun,
  gathererFor: (candidate: Candidate) => WholeAnswerGatherer<Answer>,
  deliver?: (candidate: Candidate, answer: Answer) => void,
): Promise<{ candidate: Candidate; answer: Answer }> {
  return new Promise((resolve, reject) => {
    new WholeAnswerGathering(run, gathererFor, deliver, resolve, reject).start();
  });
}

/**
 * `gatherWholeAnswer` for a caller that needs nothing back but the end: the answer
 * is `deliver`ed, and `settled` runs right before the promise settles, however it
 * ends (a chat completion notes the failed attempts on its request there), instead
 * of a `finally` around an `await` of the gathered answer.
 */
export function deliverWholeAnswer<Answer>(
  run: FallbackRun,
  gathererFor: (candidate: Candidate) => WholeAnswerGatherer<Answer>,
  deliver: (candidate: Candidate, answer: Answer) => void,
  settled: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    new WholeAnswerGathering(
      run,
      gathererFor,
      deliver,
      () => {
        settled();
        resolve();
      },
      (error) => {
        settled();
        reject(error);
      },
    ).start();
  });
}

/**
 * One run of {@link gatherWholeAnswer}, as callbacks rather than an async function
 * awaiting `commit()` and each `nextBatch()`: it listens to the commit search
 * (`FallbackRun.commitThen`) and reads the committed attempt's batches
 * (`TimedAttempt.read`), so a request's whole answer costs one promise (the one it
 * returns) beside the provider's own, instead of an async function's and a wrapper
 * promise per batch. The steps are those of the loop it replaces, in the same order:
 * commit; the leading chunks, then the rest of the committed batch, then each
 * batch to the gatherer; at the end `finish()`, then `succeed` (with `deliver`);
 * any throw of the gatherer or failure of the attempt goes to `failAfterCommit` and,
 * but for an answer too large, to the next commit.
 */
class WholeAnswerGathering<Answer> implements CommitListener, BatchReader {
  #committed: CommittedAttempt | undefined;
  #gatherer: WholeAnswerGatherer<Answer> | undefined;

  constructor(
    readonly run: FallbackRun,
    readonly gathererFor: (candidate: Candidate) => WholeAnswerGatherer<Answer>,
    readonly deliver: ((candidate: Candidate, answer: Answer) => void) | undefined,
    readonly resolve: (result: { candidate: Candidate; answer: Answer }) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  start(): void {
    this.run.commitThen(this);
  }

  /** An attempt reached its commit point: gather what it has handed over, then read on. */
  committed(committed: CommittedAttempt): void {
    let gatherer: WholeAnswerGatherer<Answer>;
    try {
      gatherer = this.gathererFor(committed.candidate);
    } catch (error) {
      this.reject(error);
      return;
    }
    this.#committed = committed;
    this.#gatherer = gatherer;
    try {
      for (const chunk of committed.leading) gatherer.add(chunk);
      // The rest of the batch the first content came in, taken without a read.
      for (const chunk of committed.attempt.takeBuffered()) gatherer.add(chunk);
    } catch (error) {
      this.fail(error);
      return;
    }
    committed.attempt.read(this);
  }

  /** No candidate committed. */
  failed(error: unknown): void {
    this.reject(error);
  }

  batch(chunks: readonly Chunk[]): void {
    const committed = this.#committed as CommittedAttempt;
    const gatherer = this.#gatherer as WholeAnswerGatherer<Answer>;
    try {
      for (const chunk of chunks) gatherer.add(chunk);
    } catch (error) {
      this.fail(error);
      return;
    }
    committed.attempt.read(this);
  }

  end(): void {
    const committed = this.#committed as CommittedAttempt;
    let answer: Answer;
    try {
      answer = (this.#gatherer as WholeAnswerGatherer<Answer>).finish();
    } catch (error) {
      this.fail(error);
      return;
    }
    const { deliver } = this;
    try {
      this.run.succeed(
        committed,
        deliver === undefined ? undefined : () => deliver(committed.candidate, answer),
      );
    } catch (error) {
      this.reject(error);
      return;
    }
    this.resolve({ candidate: committed.candidate, answer });
  }

  /** The committed attempt failed (or its gatherer refused it): move on, or end with a 502 when too large. */
  fail(error: unknown): void {
    const committed = this.#committed as CommittedAttempt;
    this.#committed = undefined;
    this.#gatherer = undefined;
    if (ResponseTooLargeError.isInstance(error) && error.limitName === answerLimitName) {
      this.run.failAfterCommit(committed, error, false).then((report) => {
        this.reject(
          new HttpError(502, error.message, {
            type: "upstream_error",
            code: "answer_too_large",
            attempts: [report],
          }),
        );
      }, this.reject);
      return;
    }
    this.run.failAfterCommit(committed, error, true).then(() => this.start(), this.reject);
  }
}
