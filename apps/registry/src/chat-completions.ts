import {
  AbortError,
  type CapabilityNeed,
  ChoiceChunk,
  type Chunk,
  FinishReason,
  Logprobs,
  type ProviderOptions,
  Reasoning,
  Refusal,
  ResponseMetadata,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "@g4f-ts/provider-core";
import { chunkText } from "@g4f-ts/provider-core/internal";
import { AnswerCollector, defaultAnswerLimitBytes } from "./answer-collector.js";
import { attemptsHeader } from "./attempts-header.js";
import {
  type CapabilityRoute,
  droppedFieldsHeader,
  requestNeeds,
  routeByCapabilities,
} from "./capability-routing.js";
import {
  answerCharacters,
  ChatChunkEncoder,
  chatCompletionBody,
  droppedParamsHeader,
  finishReasonOf,
  usageEstimatedHeader,
  usageObject,
} from "./chat-answer-wire.js";
import { clientIdentity } from "./client-identity.js";
import { writeEventStreamHead } from "./event-stream-head.js";
import { type CommittedAttempt, deliverWholeAnswer, type FallbackRun } from "./fallback.js";
import { HttpError } from "./http-errors.js";
import { sendJsonAnswer } from "./http-responses.js";
import type { Candidate } from "./model-router.js";
import {
  type ChatRequest,
  completionId,
  doneEvent,
  errorEvent,
  parseChatRequest,
  toMessages,
  toProviderOptions,
} from "./openai-wire.js";
import type { RequestContext } from "./request-context.js";
import { SseWriter } from "./sse-writer.js";

/**
 * `POST /v1/chat/completions` (and `/api/<provider>/chat/completions`, which
 * passes `pin`): validate, route to the candidates that can honour every field
 * (see `routeByCapabilities`), and answer through the fallback engine, as SSE or
 * as one JSON `chat.completion`. A request refused before any answer (a bad field,
 * an unknown model) throws its `HttpError` at once rather than in the promise.
 */
export function handleChatCompletion(
  context: RequestContext,
  body: unknown,
  pin: string | undefined,
): Promise<void> {
  const { registry } = context;
  const request = parseChatRequest(body, registry.config.server);
  const pinned = pin ?? request.provider;
  const candidates = registry.resolve(request.model, pinned, "chat");
  const messages = toMessages(request);
  // Providers are always asked to stream: failures show sooner, and the idle timer
  // means something. A JSON client gets the same chunks, grouped.
  const options = toProviderOptions(request);
  options.stream = true;
  const needs = requestNeeds(messages, options);
  const {
    candidates: routed,
    optionsFor,
    droppedHeader,
  } = asksNothingOfModels(needs, options)
    ? everyCandidateAsItIs(candidates)
    : routedCandidates(
        routeByCapabilities(candidates, needs, options, {
          unsupportedFields: registry.config.routing.unsupportedFields,
          requestedModel: request.model ?? pinned ?? "",
          pinned: pinned !== undefined,
        }),
        options,
      );
  const run = registry.run(routed, {
    requestedModel: request.model ?? pin ?? "",
    messages,
    options,
    optionsFor,
    signal: context.signal,
    logger: context.logger,
    requestId: context.requestId,
    client: clientIdentity(context.request, registry.config.server.apiKeys.length > 0),
  });
  const answer: AnswerSettings = { request, droppedHeader };
  // Not an async function of its own: its answer's promise is the request's (a
  // refused request throws here, before any answer, into the caller's await).
  return request.stream === true
    ? streamAnswer(context, run, answer)
    : sendAnswer(context, run, answer);
}

/** The candidates of a request, the options each gets, and what each drops. */
interface RoutedCandidates {
  candidates: readonly Candidate[];
  optionsFor: ((candidate: Candidate) => ProviderOptions) | undefined;
  droppedHeader: (candidate: Candidate) => string | undefined;
}

function droppedNothing(): undefined {
  return undefined;
}

/**
 * True when a request asks nothing of a model that a model could lack: no need
 * (plain text, no sampling field, no tools, no format) and no field that some
 * models take away while idle (`logprobs: false`). Then every candidate honours
 * it as it is (see {@link everyCandidateAsItIs}).
 */
export function asksNothingOfModels(
  needs: readonly CapabilityNeed[],
  options: ProviderOptions,
): boolean {
  return needs.length === 0 && options.logprobs !== false;
}

/**
 * The routes of a request that asks nothing of its models, without routing it:
 * with no need, `routeByCapabilities` finds every candidate honouring the request,
 * in order, with the request's own options (no idle field to take away) and
 * nothing dropped, which `routedCandidates` turns into the candidates as they are,
 * no `optionsFor` and no dropped-fields header; this gives the same without a
 * route per candidate, a look-up of each model's capabilities and a second list.
 */
export function everyCandidateAsItIs(candidates: readonly Candidate[]): RoutedCandidates {
  return { candidates, optionsFor: undefined, droppedHeader: droppedNothing };
}

/**
 * The routes as the fallback run takes them. The common case, every candidate
 * honouring the request as it is (the same options, nothing dropped), skips the
 * table by candidate: `optionsFor` left out gives every candidate `options`, and
 * no candidate has a dropped-fields header, exactly what the table would answer.
 */
export function routedCandidates(
  routes: readonly CapabilityRoute[],
  options: ProviderOptions,
): RoutedCandidates {
  if (routes.every((route) => route.options === options && route.dropped.length === 0))
    return {
      candidates: routes.map((route) => route.candidate),
      optionsFor: undefined,
      droppedHeader: droppedNothing,
    };
  return routeTable(routes, options);
}

/** The general case: each candidate's options and dropped fields, looked up by candidate. */
export function routeTable(
  routes: readonly CapabilityRoute[],
  options: ProviderOptions,
): RoutedCandidates {
  const routeOf = new Map<Candidate, CapabilityRoute>(
    routes.map((route) => [route.candidate, route]),
  );
  return {
    candidates: routes.map((route) => route.candidate),
    optionsFor: (candidate) => routeOf.get(candidate)?.options ?? options,
    droppedHeader: (candidate) => droppedFieldsHeader(routeOf.get(candidate)?.dropped ?? []),
  };
}

interface AnswerSettings {
  request: ChatRequest;
  /** The `x-g4f-dropped-params` value for the candidate that answered, if it dropped any. */
  droppedHeader: (candidate: Candidate) => string | undefined;
}

/**
 * The headers every chat answer carries: its provider, what it dropped, the
 * attempts that failed before it, and (a JSON answer whose usage is a guess) the
 * estimate's mark. One object, in the order the headers are sent.
 */
function answerHeaders(
  candidate: Candidate,
  settings: AnswerSettings,
  run: FallbackRun,
  usageEstimated?: boolean,
): Record<string, string> {
  const headers: Record<string, string> = { "x-g4f-provider": candidate.entry.id };
  const dropped = settings.droppedHeader(candidate);
  if (dropped !== undefined) headers[droppedParamsHeader] = dropped;
  if (run.failures.length > 0) Object.assign(headers, attemptsHeader(run.failures));
  if (usageEstimated === true) headers[usageEstimatedHeader] = "true";
  return headers;
}

/**
 * The JSON answer: gathered whole through the fallback engine, then written in one
 * piece. Not an async function: the engine's own promise is the request's
 * (`deliverWholeAnswer`), and the failed attempts are noted on the request however
 * it ends, as a `finally` would.
 */
function sendAnswer(
  context: RequestContext,
  run: FallbackRun,
  settings: AnswerSettings,
): Promise<void> {
  const limitBytes = run.settings.answerLimitBytes ?? defaultAnswerLimitBytes;
  return deliverWholeAnswer(
    run,
    (candidate) => new AnswerCollector(candidate.entry.id, limitBytes),
    // Written before the success's bookkeeping (see `FallbackRun.succeed`).
    (candidate, answer) => {
      context.provider = candidate.entry.id;
      context.failedAttempts = run.failures.length;
      const usage = usageObject(answer.usage, run.promptCharacters(), answerCharacters(answer));
      context.tokensUsed = usage.total_tokens;
      const body = chatCompletionBody(
        completionId(),
        Math.floor(Date.now() / 1000),
        candidate.model,
        candidate.entry.id,
        answer,
        usage,
      );
      sendJsonAnswer(context, body, answerHeaders(candidate, settings, run, usage.estimated));
    },
    () => {
      context.failedAttempts = run.failures.length;
    },
  );
}

/** The running state of one choice of a streamed answer. */
interface StreamedChoice {
  finishReason: string | undefined;
  /** The tool-call index the next whole `ToolCalls` call gets (after every streamed one). */
  nextToolIndex: number;
}

/** The running totals of a streamed answer, for its last events. */
class StreamState {
  completionCharacters = 0;
  usage: Usage | undefined;
  /** Choice 0, always finished; the others (`n` > 1) in `#others` once one came. */
  readonly #first: StreamedChoice = { finishReason: undefined, nextToolIndex: 0 };
  #others: Map<number, StreamedChoice> | undefined;

  /** A choice's state; past `maxStreamedChoices` a new index's state is not kept (nor finished). */
  choice(index: number): StreamedChoice {
    if (index === 0) return this.#first;
    this.#others ??= new Map();
    let choice = this.#others.get(index);
    if (choice === undefined) {
      choice = { finishReason: undefined, nextToolIndex: 0 };
      // Choice 0 counts towards the limit.
      if (this.#others.size + 1 < maxStreamedChoices) this.#others.set(index, choice);
    }
    return choice;
  }

  /** The choices kept, in the order of their indexes. */
  choices(): [number, StreamedChoice][] {
    const choices: [number, StreamedChoice][] = [[0, this.#first]];
    if (this.#others === undefined) return choices;
    choices.push(...this.#others);
    return choices.sort(([left], [right]) => left - right);
  }
}

// OpenAI's own limit of `n`: an upstream that numbers more choices can not grow the state.
const maxStreamedChoices = 128;

/** The SSE events of one chunk, in order ("" when it shows nothing to the client). */
function chunkEvents(encoder: ChatChunkEncoder, state: StreamState, chunk: Chunk): string {
  let index = 0;
  let inner = chunk;
  if (ChoiceChunk.isInstance(chunk)) {
    index = chunk.index;
    inner = chunk.chunk;
    state.choice(index);
  }
  const text = chunkText(inner);
  if (text !== "") {
    state.completionCharacters += text.length;
    return encoder.content(text, index);
  }
  if (typeof inner === "string") return "";
  if (Reasoning.isInstance(inner) || Refusal.isInstance(inner)) {
    if (inner.text === "") return "";
    state.completionCharacters += inner.text.length;
    return Reasoning.isInstance(inner)
      ? encoder.reasoning(inner.text, index)
      : encoder.refusal(inner.text, index);
  }
  if (ToolCallDelta.isInstance(inner)) {
    const choice = state.choice(index);
    choice.nextToolIndex = Math.max(choice.nextToolIndex, inner.index + 1);
    state.completionCharacters += inner.arguments.length + (inner.name?.length ?? 0);
    let events = "";
    if (inner.id !== undefined || inner.name !== undefined)
      events += encoder.toolCallStart(inner.index, inner.id, inner.name, index);
    if (inner.arguments !== "")
      events += encoder.toolCallArguments(inner.index, inner.arguments, index);
    return events;
  }
  if (ToolCalls.isInstance(inner)) {
    const choice = state.choice(index);
    let events = "";
    for (const call of inner.calls) {
      const toolIndex = choice.nextToolIndex++;
      state.completionCharacters += call.function.name.length + call.function.arguments.length;
      events += encoder.toolCallStart(toolIndex, call.id, call.function.name, index);
      if (call.function.arguments !== "")
        events += encoder.toolCallArguments(toolIndex, call.function.arguments, index);
    }
    return events;
  }
  if (Logprobs.isInstance(inner)) {
    return encoder.logprobs(
      {
        content: inner.content === null ? null : [...inner.content],
        refusal: inner.refusal === null ? null : [...inner.refusal],
      },
      index,
    );
  }
  if (FinishReason.isInstance(inner)) state.choice(index).finishReason = inner.reason;
  else if (Usage.isInstance(inner)) state.usage = inner;
  else if (ResponseMetadata.isInstance(inner)) encoder.metadata(inner);
  return "";
}

/** The SSE events of a batch of chunks, in order: those of each chunk, joined. */
function batchEvents(encoder: ChatChunkEncoder, state: StreamState, chunks: readonly Chunk[]) {
  let events = "";
  for (const chunk of chunks) events += chunkEvents(encoder, state, chunk);
  return events;
}

/**
 * The SSE answer. Nothing is written before the commit point (the first content
 * chunk of some candidate: text, reasoning, a tool call or a refusal), so until
 * then a failure moves on unseen and an all-failed error is still a plain JSON
 * error with its status. After it, chunks pass straight through with
 * backpressure, and a failure ends the stream with an explicit
 * `data: {"error": …}` event, then `data: [DONE]`, rather than a silent cut.
 */
async function streamAnswer(
  context: RequestContext,
  run: FallbackRun,
  settings: AnswerSettings,
): Promise<void> {
  // `commit` has started the first attempt when it returns its promise: the answer's
  // id is made while that request is on its way, not after its first content came.
  const committing = run.commit(true);
  const id = completionId();
  // Awaited here rather than in a helper of its own: one async step less per stream.
  let committed: CommittedAttempt;
  try {
    committed = await committing;
  } finally {
    context.failedAttempts = run.failures.length;
  }
  const { candidate } = committed;
  writeEventStreamHead(context, run, committed, answerHeaders(candidate, settings, run));
  const encoder = new ChatChunkEncoder(
    id,
    Math.floor(Date.now() / 1000),
    candidate.model,
    candidate.entry.id,
  );
  const state = new StreamState();
  // The events of one turn leave in one write (see SseWriter); a full socket buffer
  // makes the loop wait for `drain` before it reads on. The chunks come a batch per
  // network read of the provider (see TimedAttempt.nextBatch): one step per batch.
  const writer = new SseWriter(context.response);
  try {
    let blocked: Promise<void> | undefined;
    try {
      // The head and the first events leave at once, before the loop reads on: with
      // them, the rest of the network read that carried them (one write a read).
      const first = batchEvents(encoder, state, committed.leading);
      blocked = writer.writeNow(
        first + batchEvents(encoder, state, committed.attempt.takeBuffered()),
      );
    } finally {
      // The first content's bookkeeping (held by `commit(true)`) once they left.
      run.releaseFirstContent();
    }
    if (blocked !== undefined) await blocked;
    for (;;) {
      const result = await committed.attempt.nextBatch();
      if (result.done) break;
      blocked = writer.write(batchEvents(encoder, state, result.value));
      if (blocked !== undefined) await blocked;
    }
  } catch (error) {
    context.tokensUsed = usageObject(
      state.usage,
      run.promptCharacters(),
      state.completionCharacters,
    ).total_tokens;
    if (run.clientGone() && !context.endedByShutdown) {
      run.cancel(committed);
      throw new AbortError({ message: "The client closed the request" });
    }
    let streamError: HttpError;
    if (context.endedByShutdown) {
      run.cancel(committed);
      streamError = new HttpError(503, "The server is shutting down; the answer is incomplete", {
        code: "server_shutting_down",
      });
    } else {
      const report = await run.failAfterCommit(committed, error, false);
      context.failedAttempts = run.failures.length;
      streamError = new HttpError(
        502,
        `${candidate.entry.id} failed after the answer had started, so it was not retried elsewhere: ${report.message}`,
        { type: "upstream_error", code: "stream_interrupted", attempts: [report] },
      );
    }
    // Then [DONE], as g4f's API ends every stream: a client reading to [DONE] is not left waiting.
    writer.end(errorEvent(streamError) + doneEvent);
    return;
  }
  // The last events leave before the success's bookkeeping (see `FallbackRun.succeed`).
  run.succeed(committed, () => {
    const usage = usageObject(state.usage, run.promptCharacters(), state.completionCharacters);
    context.tokensUsed = usage.total_tokens;
    let ending = "";
    for (const [index, choice] of state.choices())
      ending += encoder.finish(
        finishReasonOf(choice.finishReason, choice.nextToolIndex > 0),
        index,
      );
    if (settings.request.stream_options?.include_usage === true) ending += encoder.usage(usage);
    writer.end(ending + doneEvent);
  });
}
