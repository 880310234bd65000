import type { z } from "zod";
import { type CallControl, callControlOf } from "./call-control.js";
import { CallDeadline } from "./call-deadline.js";
import { CallOptionsReader, type CallSettings, type OptionsErrorFactory } from "./call-options.js";
import { describeNeed, firstUnmetNeed, type ModelCapabilities } from "./capabilities.js";
import { BatchedChunks, chunkBatchesOf } from "./chunk-batches.js";
import {
  defaultHttpTimeouts,
  type HttpRequestOptions,
  type HttpResponse,
  type HttpTimeouts,
  type PendingResponse,
  readJson,
  sendRequest,
  startRequest,
} from "./http-client.js";
import { lastMessageText, type Messages } from "./messages.js";
import { readOpenAIChatAnswer, readOpenAIChatResponse } from "./openai-chat-wire.js";
import { InvalidResponseError } from "./provider-errors.js";
import { checkMessages, type OptionsErrorClass } from "./provider-options.js";
import { type Chunk, ImageResponse } from "./response-chunks.js";
import { type RetryPolicy, withRetries } from "./retry.js";
import { errorFromPayload } from "./status-errors.js";

/** The transport options an HTTP provider's instance takes, and hands to its pipeline as they are. */
export interface HttpProviderOptions {
  /** An `http://` or `https://` proxy for every call (a call's own `proxy` wins). */
  proxy?: string | undefined;
  /** Retries of one call (default: 3 attempts in all, 250 ms backoff doubling up to 4 s). */
  retry?: Partial<RetryPolicy> | undefined;
  /** Connect, first-byte, idle and total timeouts in ms; `totalMs` is a call's time when it sets no `timeout`. */
  timeouts?: Partial<HttpTimeouts> | undefined;
}

/** `HttpProviderOptions` as an instance keeps them once read: absent parts are empty. */
export interface HttpProviderSettings {
  proxy: string | undefined;
  retry: Partial<RetryPolicy>;
  timeouts: Partial<HttpTimeouts>;
}

/** What a provider tells its pipeline once, when the instance is made. */
export interface CallPipelineSettings<Extras extends z.ZodRawShape> extends HttpProviderOptions {
  /** The provider's label, named in errors. */
  provider: string;
  /** The provider's own call options beyond the common ones, as zod fields (use `.nullish()`). */
  options?: Extras;
  /** The provider's own subclass of `InvalidOptionsError` (see `defineOptionsError`), or a factory of its errors (default: the core's class). */
  optionsError?: OptionsErrorClass | OptionsErrorFactory;
}

/** The HTTP side of one attempt: where it goes and what it sends. */
export interface AttemptRequest {
  url: string;
  /** The JSON body, the same for every attempt. */
  body: unknown;
  headers?: Record<string, string>;
  /** Values to keep out of every error (an API key, a device id). */
  secrets?: readonly string[];
  /**
   * Headers and secrets made fresh for each attempt (AmigoChat's device uuid); they
   * are added to `headers` and `secrets`.
   */
  eachAttempt?: () => { headers?: Record<string, string>; secrets?: readonly string[] };
  /** Turns an attempt's failure into a more precise one (a provider's reading of its upstream's errors). */
  refineError?: (error: unknown) => unknown;
}

/** A chat attempt: the request, and how its answer is read (default: an OpenAI-shaped answer, SSE or JSON). */
export interface ChatAttemptRequest extends AttemptRequest {
  read?: (
    response: Promise<HttpResponse>,
    context: { provider: string; secrets: readonly string[] },
  ) => AsyncIterable<Chunk>;
}

/** An image attempt: the request, the answer's schema, and where the URLs are in it. */
export interface ImageAttemptRequest<Answer extends { error?: unknown }> extends AttemptRequest {
  /** The prompt, kept as the `ImageResponse`'s `alt`. */
  prompt: string;
  schema: z.ZodType<Answer>;
  /** The image URLs of an answer; items without one are left out. */
  images: (answer: Answer) => string[];
  /** Extra fields of the `ImageResponse` (a revised prompt, say). */
  imageOptions?: (answer: Answer) => Record<string, unknown>;
}

/**
 * The per-call machinery every HTTP provider shares, configured once per instance:
 * strict call options, the call's deadline over all its attempts, retries that
 * never run after content, the undici transport with proxy and abort, and the chat
 * and image attempts. A provider keeps its model table, its wire schemas and its
 * mappers, and its `createAsyncGenerator` reads like a description of its upstream.
 *
 * @example
 * const call = this.#pipeline.start(messages, options);
 * const json = { model: this.getModel(model), messages, stream: call.options.stream ?? false };
 * yield* call.chat({ url: `${this.baseUrl}/v1/chat/completions`, body: json });
 */
export class CallPipeline<Extras extends z.ZodRawShape = Record<never, never>> {
  readonly reader: CallOptionsReader<Extras>;

  constructor(readonly settings: CallPipelineSettings<Extras>) {
    this.reader = new CallOptionsReader(
      settings.provider,
      settings.options ?? ({} as Extras),
      settings.optionsError,
    );
  }

  /**
   * Begin a call: read its options strictly and check its messages (each failure an
   * `InvalidOptionsError` naming the field), and start its deadline. Given the
   * model's `capabilities`, a call that needs something the model lacks (tools,
   * image input, a JSON schema, …) is refused the same way, naming the field.
   */
  start(messages: Messages, options: unknown, capabilities?: ModelCapabilities): Call<Extras> {
    const read = this.reader.read(options);
    checkMessages(messages, this.settings.provider, this.reader.createError);
    if (capabilities !== undefined) this.#checkCapabilities(messages, read, capabilities);
    return new Call(this.settings, read, this.reader, callControlOf(options));
  }

  // A call that asks for what the model can not do fails before anything is sent:
  // honoured or refused, never dropped on the way.
  #checkCapabilities(
    messages: Messages,
    options: CallSettings<Extras>,
    capabilities: ModelCapabilities,
  ): void {
    const unmet = firstUnmetNeed(capabilities, messages, options);
    if (unmet === undefined) return;
    const { provider } = this.settings;
    throw this.reader.createError({
      provider,
      field: unmet.field,
      message: `${provider}: "${unmet.field}" asks for ${describeNeed(unmet)}, which this model of ${provider} does not support`,
    });
  }
}

/** One call in progress: its options as read, its deadline, and its attempts. */
export class Call<Extras extends z.ZodRawShape = Record<never, never>> {
  readonly deadline: CallDeadline;
  readonly #provider: string;
  readonly #proxy: string | undefined;
  /** The caller's `signal`, when it handed no control. */
  readonly #signal: AbortSignal | undefined;
  /** The caller's `CallControl`: the call's cancellation, and the clock of its deadlines. */
  readonly #control: CallControl | undefined;

  constructor(
    readonly settings: CallPipelineSettings<Extras>,
    readonly options: CallSettings<Extras>,
    readonly reader: CallOptionsReader<Extras>,
    control?: CallControl,
  ) {
    this.#provider = settings.provider;
    this.#signal = options.signal ?? undefined;
    this.#control = control;
    this.#proxy = options.proxy ?? settings.proxy;
    const totalMs = settings.timeouts?.totalMs ?? defaultHttpTimeouts.totalMs;
    // The call's time covers every attempt: each gets what is left of it.
    this.deadline = new CallDeadline(
      settings.provider,
      options.timeout != null ? options.timeout * 1000 : totalMs,
    );
  }

  /**
   * The call's cancellation as an `AbortSignal`, for a wait outside the pipeline (a
   * model list fetched first): the caller's `signal`, or its control's, made when read.
   */
  get signal(): AbortSignal | undefined {
    return this.#signal ?? this.#control?.signal;
  }

  /**
   * The prompt of an image model: the text of the last message. A blank one is an
   * `InvalidOptionsError` on `messages`, since no upstream can draw it.
   */
  prompt(messages: Messages): string {
    const prompt = lastMessageText(messages);
    if (prompt.trim() === "") {
      throw this.reader.createError({
        provider: this.#provider,
        field: "messages",
        message: `${this.#provider}: an image model needs a prompt, and the last message has no text`,
      });
    }
    return prompt;
  }

  /**
   * POST the chat request and read its answer, retried as {@link withRetries} allows.
   * The answer offers the batched view (see `chunkBatchesOf`): a provider's own
   * batches generator passes it on with `yield* chunkBatchesOf(call.chat(…))`.
   */
  chat(request: ChatAttemptRequest): BatchedChunks {
    const read = request.read;
    if (read === undefined || read === readOpenAIChatResponse) {
      // The core's reader refines its failures itself (without a layer per batch above
      // it) and keeps a failed request from going unhandled.
      const { refineError } = request;
      const provider = this.#provider;
      return this.#retried(
        request,
        (response, secrets) => readOpenAIChatAnswer(response, { provider, secrets, refineError }),
        coreReaderDuties,
      );
    }
    // Without the core's duties the attempt hands the reader `sendRequest`'s promise.
    return this.#retried(request, (response, secrets) =>
      read(response as Promise<HttpResponse>, { provider: this.#provider, secrets }),
    );
  }

  /**
   * POST the image request and yield one `ImageResponse`. An error object in the
   * answer becomes its typed error; an answer without any image URL is an
   * `InvalidResponseError` that is not retried, since a retry could pay for a
   * generation again.
   */
  image<Answer extends { error?: unknown }>(request: ImageAttemptRequest<Answer>): BatchedChunks {
    const provider = this.#provider;
    // Without the core's duties the attempt hands the reader `sendRequest`'s promise.
    return this.#retried(request, async function* (pending, secrets) {
      const response = await (pending as Promise<HttpResponse>);
      const answer = await readJson(response, request.schema, provider, secrets);
      if (answer.error != null) throw errorFromPayload(provider, answer, secrets);
      const urls = request.images(answer);
      if (urls.length === 0) {
        throw new InvalidResponseError({
          provider,
          status: response.status,
          retryable: false,
          message: `${provider} answered without an image URL (not retried: a retry could pay for the generation again)`,
        });
      }
      yield new ImageResponse(urls, request.prompt, request.imageOptions?.(answer) ?? {});
    });
  }

  #retried(
    request: AttemptRequest,
    read: (response: PendingResponse, secrets: readonly string[]) => AsyncIterable<Chunk>,
    reader: ReaderDuties = noReaderDuties,
  ): BatchedChunks {
    const { settings } = this;
    const signal = this.#signal;
    const control = this.#control;
    const attempt = (): AsyncIterable<Chunk> => {
      const fresh = request.eachAttempt?.() ?? {};
      const secrets = joined(request.secrets, fresh.secrets) ?? noSecrets;
      const options: HttpRequestOptions = {
        method: "POST",
        provider: this.#provider,
        url: request.url,
        headers: merged(request.headers, fresh.headers) ?? {},
        json: request.body,
        secrets,
        proxy: this.#proxy,
        signal,
        control,
        timeouts: attemptTimeouts(settings.timeouts, this.deadline.remainingMs()),
      };
      let response: PendingResponse;
      if (reader.waitsForAnswer) {
        // The reader waits for the call's answer itself, and keeps a failed start handled.
        response = startRequest(options);
      } else {
        // Any other reader awaits the call's start; one never started must not leave
        // its failure unhandled.
        const started = sendRequest(options);
        started.catch(ignore);
        response = started;
      }
      const chunks = read(response, secrets);
      return request.refineError === undefined || reader.refinesErrors
        ? chunks
        : refining(chunks, request.refineError);
    };
    return withRetries(attempt, {
      provider: this.#provider,
      policy: settings.retry,
      signal,
      control,
    });
  }
}

function ignore(): void {}

/** What an attempt's reader does itself, which the attempt then need not. */
interface ReaderDuties {
  /**
   * It takes the pending call of `startRequest` and waits for its answer without a
   * promise (see `waitForAnswer`), keeping a failed start handled (the OpenAI reader
   * does); any other reader is given `sendRequest`'s promise.
   */
  waitsForAnswer: boolean;
  /** It passes its failures through the request's `refineError`. */
  refinesErrors: boolean;
}

const noReaderDuties: ReaderDuties = { waitsForAnswer: false, refinesErrors: false };
const coreReaderDuties: ReaderDuties = { waitsForAnswer: true, refinesErrors: true };

const noSecrets: readonly string[] = [];

/**
 * An attempt's timeouts: the instance's over the defaults, with what is left of the
 * call's time as its total. All four are given, so that the transport takes the
 * object as it is; a literal rather than two spreads (the instance's and the
 * transport's merge with its defaults) on every attempt.
 */
function attemptTimeouts(given: Partial<HttpTimeouts> | undefined, totalMs: number): HttpTimeouts {
  return {
    connectMs: given?.connectMs ?? defaultHttpTimeouts.connectMs,
    firstByteMs: given?.firstByteMs ?? defaultHttpTimeouts.firstByteMs,
    idleMs: given?.idleMs ?? defaultHttpTimeouts.idleMs,
    totalMs,
  };
}

// The request's headers and an attempt's own, without a copy when one side has none
// (sendRequest never changes the object it is given): the result is the same headers.
function merged(
  headers: Record<string, string> | undefined,
  own: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (own === undefined) return headers;
  if (headers === undefined) return own;
  return { ...headers, ...own };
}

// The same for the secrets.
function joined(
  secrets: readonly string[] | undefined,
  own: readonly string[] | undefined,
): readonly string[] | undefined {
  if (own === undefined || own.length === 0) return secrets;
  if (secrets === undefined || secrets.length === 0) return own;
  return [...secrets, ...own];
}

function refining(
  chunks: AsyncIterable<Chunk>,
  refine: (error: unknown) => unknown,
): BatchedChunks {
  return new BatchedChunks(() => new RefiningBatches(chunks, refine));
}

/**
 * The batches of an attempt with each failure passed through `refine`: what an
 * async generator with `try { yield* chunkBatchesOf(chunks) } catch (error) { throw
 * refine(error) }` does, without a generator's step per batch. As with that
 * generator, nothing is opened before the first `next()`, a failure to open or to
 * read (or to close, in `return()`) is refined, and once it failed or ended every
 * later `next()` is done.
 */
class RefiningBatches implements AsyncIterable<readonly Chunk[]>, AsyncIterator<readonly Chunk[]> {
  readonly #chunks: AsyncIterable<Chunk>;
  readonly #refine: (error: unknown) => unknown;
  #batches: AsyncIterator<readonly Chunk[]> | undefined;
  #over = false;

  constructor(chunks: AsyncIterable<Chunk>, refine: (error: unknown) => unknown) {
    this.#chunks = chunks;
    this.#refine = refine;
  }

  [Symbol.asyncIterator](): AsyncIterator<readonly Chunk[]> {
    return this;
  }

  next(): Promise<IteratorResult<readonly Chunk[]>> {
    if (this.#over) return Promise.resolve(doneBatch);
    try {
      this.#batches ??= chunkBatchesOf(this.#chunks)[Symbol.asyncIterator]();
      return this.#batches.next().then(this.#onBatch, this.#onFailure);
    } catch (error) {
      return this.#failed(error);
    }
  }

  // A failure to open, as a rejection (as a generator's `next()` gives it).
  async #failed(error: unknown): Promise<never> {
    return this.#onFailure(error);
  }

  async return(): Promise<IteratorResult<readonly Chunk[]>> {
    if (this.#over) return doneBatch;
    this.#over = true;
    try {
      await this.#batches?.return?.();
    } catch (error) {
      throw this.#refine(error);
    }
    return doneBatch;
  }

  readonly #onBatch = (
    result: IteratorResult<readonly Chunk[]>,
  ): IteratorResult<readonly Chunk[]> => {
    if (result.done) {
      this.#over = true;
      return doneBatch;
    }
    return result;
  };

  readonly #onFailure = (error: unknown): never => {
    this.#over = true;
    throw this.#refine(error);
  };
}

const doneBatch: IteratorResult<readonly Chunk[]> = { done: true, value: undefined };
