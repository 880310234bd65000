import { BatchedChunks } from "./chunk-batches.js";
import {
  type AnswerListener,
  closesWithResponse,
  type HttpResponse,
  type PendingResponse,
  readyPiece,
  responseHeader,
  waitForAnswer,
} from "./http-client.js";
import {
  isPlainOpenAIChatChunk,
  isPlainOpenAIChatCompletion,
  type OpenAIChatChunk,
  OpenAIChatChunkMapper,
  openAIChatChunkSchema,
  openAIChatCompletionSchema,
} from "./openai-chat-chunks.js";
import { OpenAIChatDeltaTemplate, TemplatedTextDelta } from "./openai-chat-delta-template.js";
import {
  ConnectionError,
  InvalidResponseError,
  StreamInterruptedError,
  TimeoutError,
} from "./provider-errors.js";
import type { Chunk } from "./response-chunks.js";
import { formatSchemaIssues } from "./schema-errors.js";
import { redactSecrets } from "./secret-redaction.js";
import { drainAfterDone, type SseDecodeOptions, SseEventDecoder } from "./sse-events.js";
import { errorFromPayload, upstreamSnippet } from "./status-errors.js";

export interface OpenAIChatReadOptions {
  provider: string;
  /** A `data:` line that is not JSON: skip it (default) or fail. */
  invalidJson?: "skip" | "fail";
  secrets?: readonly string[];
  /**
   * Turns each failure of the reading (of the request, the body, an error event, a
   * cut stream) into a more precise one: a provider's reading of its upstream's
   * errors. Applied once to each, before it reaches the reader of the answer.
   */
  refineError?: (error: unknown) => unknown;
}

function isEventStream(response: HttpResponse): boolean {
  const type = responseHeader(response, "content-type");
  return (Array.isArray(type) ? type.join(",") : (type ?? "")).includes("text/event-stream");
}

/**
 * Read an OpenAI-shaped chat answer, SSE or JSON (chosen by the content type, and by
 * the body's first character when the type says neither), as chunks: text deltas as
 * they arrive, `Reasoning`, `Refusal`, tool calls (`ToolCallDelta` pieces from a
 * stream, `ToolCalls` from JSON), `Logprobs`, `FinishReason`, `Usage` with its
 * details, and a `ResponseMetadata`; choices after the first wrapped in
 * `ChoiceChunk`s (see `OpenAIChatChunkMapper`). An SSE stream that stops without
 * `[DONE]` while a choice has content but no finish reason (a clean end or a broken
 * socket) is a `StreamInterruptedError` carrying the count of characters so far
 * (text, reasoning, refusals and tool calls alike) and the end of the text: never a
 * silent cut. The reading keeps counts, never the whole text, so a stream's memory
 * stays flat however long it runs.
 *
 * It takes the response or the promise of one, so that a provider's attempt can be
 * `() => readOpenAIChatResponse(postJson(…), options)`: one reader from socket to
 * caller, and the response is closed however the reading ends. The answer also
 * offers its batched view (see `chunkBatchesOf`): the chunks of the body's pieces
 * already received as one array (a short answer's whole body, mostly).
 *
 * @example
 * yield* withRetries(() => readOpenAIChatResponse(postJson({ provider, url, json }), { provider }), { provider });
 */
export function readOpenAIChatResponse(
  response: HttpResponse | Promise<HttpResponse>,
  options: OpenAIChatReadOptions,
): BatchedChunks {
  return readOpenAIChatAnswer(response, options);
}

/**
 * {@link readOpenAIChatResponse} of a request sent with `startRequest`: the call's
 * answer is waited for without a promise of its start (see `waitForAnswer`).
 */
export function readOpenAIChatAnswer(
  response: PendingResponse,
  options: OpenAIChatReadOptions,
): BatchedChunks {
  // The reading reports a failed request; a reader never started must not leave
  // that failure unhandled.
  if (response instanceof Promise) response.catch(ignore);
  return new BatchedChunks(() => new ChatAnswerBatches(response, options));
}

function ignore(): void {}

/**
 * The caller's options, with the request's own secrets (its headers, its proxy)
 * added, worked out only when an error needs them.
 */
function withRequestSecrets(
  options: OpenAIChatReadOptions,
  answer: HttpResponse,
): OpenAIChatReadOptions {
  if (!("secrets" in answer)) return options;
  return new ReadOptionsWithSecrets(options, answer);
}

/**
 * Read options of one answer: the caller's, with the request's own secrets (its
 * headers, its proxy) added, worked out only when an error needs them. A class
 * rather than a spread with a getter, which costs about thirty times as much to
 * make, and one is made per call.
 */
class ReadOptionsWithSecrets implements OpenAIChatReadOptions {
  readonly provider: string;
  readonly invalidJson: "skip" | "fail" | undefined;
  readonly #options: OpenAIChatReadOptions;
  readonly #answer: HttpResponse;
  #secrets: readonly string[] | undefined;

  constructor(options: OpenAIChatReadOptions, answer: HttpResponse) {
    this.provider = options.provider;
    this.invalidJson = options.invalidJson;
    this.#options = options;
    this.#answer = answer;
  }

  get secrets(): readonly string[] | undefined {
    if (!("secrets" in this.#answer)) return this.#options.secrets;
    this.#secrets ??= [...(this.#answer.secrets ?? []), ...(this.#options.secrets ?? [])];
    return this.#secrets;
  }
}

/** The SSE decoder's options of one answer: its read options, and how its events are read. */
class ChatDecodeOptions
  extends ReadOptionsWithSecrets
  implements SseDecodeOptions<OpenAIChatChunk | TemplatedTextDelta>
{
  readonly schema = openAIChatChunkSchema;
  readonly accepts = isPlainOpenAIChatChunk;
  /** Text deltas that repeat an earlier one but for their text skip the parse. */
  readonly shortcut = new OpenAIChatDeltaTemplate();
}

const doneBatch: IteratorResult<Chunk[]> = { done: true, value: undefined };

/** No failure, for `ChatAnswerBatches.#end` (an error may be any value, `undefined` too). */
const noFailure = Symbol("no failure");

/**
 * The batches of one answer (see `ChunkBatchSource`), read as an async generator
 * would read them (`await` the response; a JSON body whole, an SSE body piece by
 * piece; the response released however the reading ends), written as an iterator
 * of its own so that a step costs a promise only where it waits for the network:
 * the pieces of the body already queued (see `readyPiece`) are decoded at once and
 * their chunks handed over as one batch, which for a short answer is the whole body
 * in one step. A generator spent two promises on each `yield` and one on each
 * `next()`, and a `ChunkBatchesOf` layer and a refining layer above it one more
 * each per batch; `refineError` is applied here instead, to every failure.
 *
 * It keeps the generator's contract: nothing happens before the first `next()`;
 * the chunks before a failure come in a batch before it; after a failure or the
 * end, `next()` is done; `return()` releases the answer (and waits for a call in
 * progress first, as a generator queues its calls).
 */
class ChatAnswerBatches implements AsyncIterable<Chunk[]>, AsyncIterator<Chunk[]>, AnswerListener {
  readonly #response: PendingResponse;
  readonly #options: OpenAIChatReadOptions;
  #answer: HttpResponse | undefined;
  #body: AsyncIterator<Uint8Array> | undefined;
  #decoder: SseEventDecoder<OpenAIChatChunk | TemplatedTextDelta> | undefined;
  #mapper: OpenAIChatChunkMapper | undefined;
  /** The body ended (its last piece was read). */
  #ended = false;
  /** Read to the end, failed or returned: every later `next()` is done. */
  #over = false;
  /** A failure held back behind the batch of the chunks before it. */
  #held: unknown = noFailure;
  /** A `next()` waiting for the network, and the calls queued behind it. */
  #waiting: Promise<IteratorResult<Chunk[]>> | undefined;
  #tail: Promise<IteratorResult<Chunk[]>> | undefined;
  #queued = 0;
  /** The first `next()`'s promise, while it waits for a pending call's answer. */
  #answerResolve:
    | ((result: IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>>) => void)
    | undefined;
  #answerReject: ((error: unknown) => void) | undefined;

  constructor(response: PendingResponse, options: OpenAIChatReadOptions) {
    this.#response = response;
    this.#options = options;
  }

  [Symbol.asyncIterator](): AsyncIterator<Chunk[]> {
    return this;
  }

  next(): Promise<IteratorResult<Chunk[]>> {
    return this.#waiting === undefined && this.#queued === 0
      ? this.#nextNow()
      : this.#queue(() => this.#nextQueued());
  }

  return(): Promise<IteratorResult<Chunk[]>> {
    return this.#waiting === undefined && this.#queued === 0
      ? this.#returnNow()
      : this.#queue(() => this.#returnQueued());
  }

  #nextNow(): Promise<IteratorResult<Chunk[]>> {
    if (this.#over) return Promise.resolve(doneBatch);
    try {
      const result = this.#read();
      if (!(result instanceof Promise)) return Promise.resolve(result);
      this.#waiting = result;
      return result;
    } catch (error) {
      // Already refined: every failure leaves through `#fail`.
      return Promise.reject(error);
    }
  }

  #returnNow(): Promise<IteratorResult<Chunk[]>> {
    if (this.#over) return Promise.resolve(doneBatch);
    // Not started: nothing was read, but a request handed over as a call or a
    // response (a pipeline's attempt sends it when its batches are opened) is this
    // reader's to release, or it would hold its socket until its deadline.
    if (this.#answer === undefined) {
      this.#over = true;
      const response = this.#response;
      if (!(response instanceof Promise)) response.close();
      return Promise.resolve(doneBatch);
    }
    try {
      const result = this.#end(noFailure);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // A call made while another waits runs once that one is over, as a generator's do.
  #queue(call: () => Promise<IteratorResult<Chunk[]>>): Promise<IteratorResult<Chunk[]>> {
    const previous = this.#tail ?? this.#waiting ?? Promise.resolve(doneBatch);
    this.#queued++;
    const queued = previous.then(call, call);
    this.#tail = queued;
    return queued;
  }

  #nextQueued(): Promise<IteratorResult<Chunk[]>> {
    if (--this.#queued === 0) this.#tail = undefined;
    return this.#nextNow();
  }

  #returnQueued(): Promise<IteratorResult<Chunk[]>> {
    if (--this.#queued === 0) this.#tail = undefined;
    return this.#returnNow();
  }

  // The step that waited is over once it gives a result (rather than the promise of a
  // further wait) or fails.
  #continued(
    result: IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>>,
  ): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    if (!(result instanceof Promise)) this.#waiting = undefined;
    return result;
  }

  // One step: a batch, the end, or the promise of one when it must wait; throws a
  // refined failure.
  #read(): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    if (this.#held !== noFailure) {
      const held = this.#held;
      this.#held = noFailure;
      return this.#fail(held);
    }
    if (this.#answer === undefined) {
      const response = this.#response;
      if (response instanceof Promise)
        return response.then(
          (answer) => this.#onAnswer(answer),
          (error: unknown) => this.#onFailure(error),
        );
      // A pending call tells this reader its answer (see `answered`): the promise of
      // this step is the only one until then, where awaiting the call's start cost
      // that promise, a reaction's and one to keep its failure handled.
      if (waitForAnswer(response, this))
        return new Promise((resolve, reject) => {
          this.#answerResolve = resolve;
          this.#answerReject = reject;
        });
      return this.#onAnswer(response);
    }
    return this.#readPieces([], undefined);
  }

  /** The pending call's answer is in (see `AnswerListener`): the waiting first step goes on with it. */
  answered(answer: HttpResponse): void {
    const resolve = this.#answerResolve;
    const reject = this.#answerReject;
    this.#answerResolve = this.#answerReject = undefined;
    try {
      resolve?.(this.#onAnswer(answer));
    } catch (error) {
      reject?.(error);
    }
  }

  /** The pending call failed before its answer: the waiting first step fails as with any failure. */
  answerFailed(error: unknown): void {
    const resolve = this.#answerResolve;
    const reject = this.#answerReject;
    this.#answerResolve = this.#answerReject = undefined;
    try {
      resolve?.(this.#onFailure(error));
    } catch (failure) {
      reject?.(failure);
    }
  }

  #onAnswer(answer: HttpResponse): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    this.#answer = answer;
    try {
      if (!isEventStream(answer))
        return answer.text().then(
          (text) => this.#onText(text),
          (error: unknown) => this.#onFailure(error),
        );
      return this.#continued(this.#startEvents(answer.body));
    } catch (error) {
      this.#waiting = undefined;
      return this.#fail(error);
    }
  }

  #onText(text: string): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    try {
      return this.#continued(this.#readText(text));
    } catch (error) {
      this.#waiting = undefined;
      throw error;
    }
  }

  #readText(text: string): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    try {
      const start = text.trimStart();
      if (!(start.startsWith("data:") || start.startsWith("event:") || start.startsWith(":"))) {
        const answer = this.#answer as HttpResponse;
        const chunks = readJsonCompletion(
          text,
          answer.status,
          withRequestSecrets(this.#options, answer),
        );
        // The whole answer is read: released now rather than at the next call.
        const end = this.#end(noFailure);
        if (chunks.length === 0) return end;
        return end instanceof Promise ? end.then(() => batchOf(chunks)) : batchOf(chunks);
      }
      return this.#startEvents(bytesOnce(Buffer.from(text)));
    } catch (error) {
      return this.#fail(error);
    }
  }

  #startEvents(
    body: AsyncIterable<Uint8Array>,
  ): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    this.#decoder = new SseEventDecoder<OpenAIChatChunk | TemplatedTextDelta>(
      new ChatDecodeOptions(this.#options, this.#answer as HttpResponse),
    );
    this.#body = body[Symbol.asyncIterator]();
    // The content passed on is counted and only the end of its text kept, for the
    // error of a cut stream: tool-call pieces, refusals and reasoning count as
    // content as text does.
    this.#mapper = new OpenAIChatChunkMapper();
    return this.#readPieces([], undefined);
  }

  #onPiece(
    piece: IteratorResult<Uint8Array>,
  ): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    try {
      return this.#continued(this.#readPieces([], piece));
    } catch (error) {
      this.#waiting = undefined;
      throw error;
    }
  }

  #onPieceFailure(error: unknown): never | Promise<never> {
    this.#waiting = undefined;
    return this.#fail(this.#interrupted(error));
  }

  #onFailure(error: unknown): never | Promise<never> {
    this.#waiting = undefined;
    return this.#fail(error);
  }

  // The pieces already there (and `piece`, just read), decoded into `chunks`; a batch
  // of them once no piece is left queued, or the wait for the next piece.
  #readPieces(
    chunks: Chunk[],
    piece: IteratorResult<Uint8Array> | undefined,
  ): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    const decoder = this.#decoder as SseEventDecoder<OpenAIChatChunk | TemplatedTextDelta>;
    const body = this.#body as AsyncIterator<Uint8Array>;
    let next = piece;
    while (!decoder.done && !this.#ended) {
      // A piece already queued is taken at once, without a promise (see readyPiece).
      next ??= readyPiece(body);
      if (next === undefined) {
        if (chunks.length > 0) return batchOf(chunks);
        let waiting: Promise<IteratorResult<Uint8Array>>;
        try {
          waiting = body.next();
        } catch (error) {
          return this.#fail(this.#interrupted(error));
        }
        return waiting.then(
          (next) => this.#onPiece(next),
          (error: unknown) => this.#onPieceFailure(error),
        );
      }
      try {
        this.#decode(next, chunks);
      } catch (error) {
        // After the chunks before it, as a generator's failure after its last yield.
        if (chunks.length === 0) return this.#fail(error);
        this.#held = error;
        return batchOf(chunks);
      }
      next = undefined;
    }
    if (chunks.length > 0) return batchOf(chunks);
    return this.#finish();
  }

  // One piece of the body (or its end) into chunks; a failure held back behind the
  // events of the piece is thrown after their chunks were pushed.
  #decode(piece: IteratorResult<Uint8Array>, chunks: Chunk[]): void {
    const decoder = this.#decoder as SseEventDecoder<OpenAIChatChunk | TemplatedTextDelta>;
    const mapper = this.#mapper as OpenAIChatChunkMapper;
    this.#ended = piece.done === true;
    let events: (OpenAIChatChunk | TemplatedTextDelta)[];
    try {
      events = this.#ended ? decoder.end() : decoder.push(piece.value as Uint8Array);
    } catch (error) {
      throw this.#interrupted(error);
    }
    for (const event of events) {
      if (event instanceof TemplatedTextDelta) event.pushTo(mapper, chunks);
      else mapper.pushEvent(event, chunks);
    }
    decoder.check();
  }

  // A broken socket or a stall after content leaves an incomplete answer: say so,
  // and keep the text that did arrive (the timeout stays readable as the cause).
  #interrupted(error: unknown): unknown {
    const mapper = this.#mapper;
    if (
      mapper === undefined ||
      mapper.contentCharacters === 0 ||
      !(ConnectionError.isInstance(error) || TimeoutError.isInstance(error))
    ) {
      return error;
    }
    const { provider } = this.#options;
    return new StreamInterruptedError({
      provider,
      partialText: mapper.text.text(),
      receivedCharacters: mapper.contentCharacters,
      cause: error,
      message: `The stream from ${provider} broke off after ${mapper.contentCharacters} characters: ${error.message}`,
    });
  }

  // The body ended or [DONE] arrived: after [DONE], the little that may follow is read
  // so that the connection goes back to the pool; without [DONE], every choice that
  // had content must have finished.
  #finish(): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    const decoder = this.#decoder as SseEventDecoder<OpenAIChatChunk | TemplatedTextDelta>;
    if (decoder.done) {
      let draining: Promise<void> | undefined;
      try {
        draining = drainAfterDone(this.#body as AsyncIterator<Uint8Array>);
      } catch (error) {
        return this.#fail(error);
      }
      if (draining !== undefined)
        return draining.then(
          () => this.#onDrained(),
          (error: unknown) => this.#onFailure(error),
        );
    }
    return this.#afterDrain();
  }

  #onDrained(): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    try {
      return this.#continued(this.#afterDrain());
    } catch (error) {
      this.#waiting = undefined;
      throw error;
    }
  }

  #afterDrain(): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    const decoder = this.#decoder as SseEventDecoder<OpenAIChatChunk | TemplatedTextDelta>;
    const mapper = this.#mapper as OpenAIChatChunkMapper;
    if (decoder.done || !mapper.unfinished) return this.#end(noFailure);
    return this.#end(
      new StreamInterruptedError({
        provider: this.#options.provider,
        partialText: mapper.text.text(),
        receivedCharacters: mapper.contentCharacters,
      }),
    );
  }

  // A failure ends the reading (once; one that ended already passes on as it is).
  #fail(error: unknown): never | Promise<never> {
    if (this.#over) throw error;
    return this.#end(error) as never | Promise<never>;
  }

  /**
   * The end of the reading, as the generator's `finally` blocks made it: the body's
   * own iterator returned (a call's body is released by closing the answer, without
   * a promise), the answer closed; then `failure`, refined, or done. A failure to
   * return the body wins, as an error in a `finally` does.
   */
  #end(failure: unknown): IteratorResult<Chunk[]> | Promise<IteratorResult<Chunk[]>> {
    this.#over = true;
    const answer = this.#answer;
    const body = this.#body;
    let returned: Promise<unknown> | undefined;
    if (answer !== undefined && body !== undefined && !closesWithResponse(body, answer)) {
      try {
        returned = body.return?.();
      } catch (error) {
        answer.close();
        throw this.#refined(error);
      }
    }
    if (returned === undefined) {
      answer?.close();
      return this.#outcome(failure);
    }
    return Promise.resolve(returned).then(
      () => {
        answer?.close();
        return this.#outcome(failure);
      },
      (error: unknown) => {
        answer?.close();
        throw this.#refined(error);
      },
    );
  }

  #outcome(failure: unknown): IteratorResult<Chunk[]> {
    if (failure !== noFailure) throw this.#refined(failure);
    return doneBatch;
  }

  #refined(error: unknown): unknown {
    const refine = this.#options.refineError;
    return refine === undefined ? error : refine(error);
  }
}

function batchOf(chunks: Chunk[]): IteratorResult<Chunk[]> {
  return { done: false, value: chunks };
}

async function* bytesOnce(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function readJsonCompletion(text: string, status: number, options: OpenAIChatReadOptions): Chunk[] {
  const { provider } = options;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidResponseError({
      provider,
      status,
      message: `${provider} answered with a body that is neither JSON nor SSE: ${JSON.stringify(upstreamSnippet(text, options.secrets, 120))}`,
    });
  }
  if (typeof json === "object" && json !== null && "error" in json && json.error != null) {
    throw errorFromPayload(provider, json, options.secrets);
  }
  // The common answer is taken as it is: the schema would pass it unchanged.
  if (isPlainOpenAIChatCompletion(json)) return new OpenAIChatChunkMapper().completionChunks(json);
  const parsed = openAIChatCompletionSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidResponseError({
      provider,
      status,
      message: `${provider} answered with an unexpected shape: ${redactSecrets(formatSchemaIssues(parsed.error), options.secrets)}`,
    });
  }
  return new OpenAIChatChunkMapper().completionChunks(parsed.data);
}
