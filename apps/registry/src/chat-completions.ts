import { AbortError, type Chunk, FinishReason, Reasoning, Usage } from "@g4f-ts/provider-core";
import { chunkText } from "@g4f-ts/provider-core/internal";
import { attemptsHeader } from "./attempts-header.js";
import { clientIdentity } from "./client-identity.js";
import { type CommittedAttempt, collectAnswer, type FallbackRun } from "./fallback.js";
import { HttpError } from "./http-errors.js";
import { sendJson, writeChunk } from "./http-responses.js";
import {
  ChatChunkEncoder,
  type ChatRequest,
  chatCompletionBody,
  completionId,
  doneEvent,
  errorEvent,
  messagesLength,
  parseChatRequest,
  toMessages,
  toProviderOptions,
  usageCounts,
} from "./openai-wire.js";
import type { RequestContext } from "./request-context.js";

/**
 * `POST /v1/chat/completions` (and `/api/<provider>/chat/completions`, which
 * passes `pin`): validate, route, and answer through the fallback engine, as SSE
 * or as one JSON `chat.completion`.
 */
export async function handleChatCompletion(
  context: RequestContext,
  body: unknown,
  pin: string | undefined,
): Promise<void> {
  const request = parseChatRequest(body, context.registry.config.server);
  const candidates = context.registry.resolve(request.model, pin ?? request.provider, "chat");
  const messages = toMessages(request);
  // Providers are always asked to stream: failures show sooner, and the idle timer
  // means something. A JSON client gets the same chunks, grouped.
  const options = toProviderOptions(request);
  options.stream = true;
  const run = context.registry.run(candidates, {
    requestedModel: request.model ?? pin ?? "",
    messages,
    options,
    signal: context.signal,
    logger: context.logger,
    requestId: context.requestId,
    client: clientIdentity(context.request, context.registry.config.server.apiKeys.length > 0),
  });
  if (request.stream === true) await streamAnswer(context, run, request, messagesLength(messages));
  else await sendAnswer(context, run, messagesLength(messages));
}

async function sendAnswer(
  context: RequestContext,
  run: FallbackRun,
  promptCharacters: number,
): Promise<void> {
  try {
    const { candidate, answer } = await collectAnswer(run);
    context.provider = candidate.entry.id;
    context.tokensUsed = usageCounts(
      answer.usage,
      promptCharacters,
      answer.content.length + answer.reasoning.length,
    ).total_tokens;
    const body = chatCompletionBody(
      completionId(),
      Math.floor(Date.now() / 1000),
      candidate.model,
      candidate.entry.id,
      answer,
      promptCharacters,
    );
    sendJson(context.response, 200, body, {
      "x-g4f-provider": candidate.entry.id,
      ...attemptsHeader(run.failures),
    });
  } finally {
    context.failedAttempts = run.failures.length;
  }
}

/** The running totals of a streamed answer, for its last events. */
interface StreamState {
  completionCharacters: number;
  finishReason: string | undefined;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number } | undefined;
}

async function writeStreamChunk(
  context: RequestContext,
  encoder: ChatChunkEncoder,
  state: StreamState,
  chunk: Chunk,
): Promise<void> {
  const text = chunkText(chunk);
  if (text !== "") {
    state.completionCharacters += text.length;
    await writeChunk(context.response, encoder.content(text));
    return;
  }
  if (typeof chunk === "string") return;
  if (Reasoning.isInstance(chunk)) {
    if (chunk.text === "") return;
    state.completionCharacters += chunk.text.length;
    await writeChunk(context.response, encoder.reasoning(chunk.text));
    return;
  }
  if (FinishReason.isInstance(chunk)) state.finishReason = chunk.reason;
  else if (Usage.isInstance(chunk)) state.usage = chunk;
}

/**
 * The SSE answer. Nothing is written before the commit point (the first content
 * chunk of some candidate), so until then a failure moves on unseen and an
 * all-failed error is still a plain JSON error with its status. After it, chunks
 * pass straight through with backpressure, and a failure ends the stream with an
 * explicit `data: {"error": …}` event, then `data: [DONE]`, rather than a silent cut.
 */
async function streamAnswer(
  context: RequestContext,
  run: FallbackRun,
  request: ChatRequest,
  promptCharacters: number,
): Promise<void> {
  let committed: CommittedAttempt;
  try {
    committed = await run.commit();
  } finally {
    context.failedAttempts = run.failures.length;
  }
  const { candidate } = committed;
  const { response } = context;
  context.provider = candidate.entry.id;
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
    "x-g4f-provider": candidate.entry.id,
    ...attemptsHeader(run.failures),
  });
  const encoder = new ChatChunkEncoder(
    completionId(),
    Math.floor(Date.now() / 1000),
    candidate.model,
    candidate.entry.id,
  );
  const state: StreamState = { completionCharacters: 0, finishReason: undefined, usage: undefined };
  try {
    for (const chunk of committed.leading) await writeStreamChunk(context, encoder, state, chunk);
    for (;;) {
      const result = await committed.attempt.next();
      if (result.done) break;
      await writeStreamChunk(context, encoder, state, result.value);
    }
  } catch (error) {
    context.tokensUsed = usageCounts(
      state.usage,
      promptCharacters,
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
    if (!response.destroyed) response.end(errorEvent(streamError) + doneEvent);
    return;
  }
  run.succeed(committed);
  context.tokensUsed = usageCounts(
    state.usage,
    promptCharacters,
    state.completionCharacters,
  ).total_tokens;
  await writeChunk(response, encoder.finish(state.finishReason ?? "stop"));
  if (request.stream_options?.include_usage === true)
    await writeChunk(
      response,
      encoder.usage(usageCounts(state.usage, promptCharacters, state.completionCharacters)),
    );
  response.end(doneEvent);
}
