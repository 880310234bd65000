import {
  AbortError,
  capabilitiesOf,
  type Messages,
  type ProviderOptions,
  ResponseTooLargeError,
} from "@g4f-ts/provider-core";
import { answerLimitName, defaultAnswerLimitBytes } from "./answer-collector.js";
import { type CapabilityRoute, requestNeeds, routeByCapabilities } from "./capability-routing.js";
import { droppedParamsHeader } from "./chat-answer-wire.js";
import { clientIdentity } from "./client-identity.js";
import { writeEventStreamHead } from "./event-stream-head.js";
import { type CommittedAttempt, type FallbackRun, gatherWholeAnswer } from "./fallback.js";
import { HttpError } from "./http-errors.js";
import { sendJson } from "./http-responses.js";
import type { Candidate } from "./model-router.js";
import { messagesLength } from "./openai-wire.js";
import type { Registry } from "./registry.js";
import { checkRequestObject } from "./request-checks.js";
import type { RequestContext } from "./request-context.js";
import {
  conversationOf,
  inputMessages,
  parseResponsesRequest,
  type ResponsesRequest,
  responsesOptions,
} from "./responses-api.js";
import { answerNatively, nativeCandidates } from "./responses-native.js";
import { ResponsesStore } from "./responses-store.js";
import {
  ResponseAssembler,
  type ResponseEcho,
  type ResponseEvent,
  responseEventText,
  responseItemId,
  responseObjectEventText,
} from "./responses-stream.js";
import { SseWriter } from "./sse-writer.js";

/*
 * `POST /v1/responses`, `GET /v1/responses/{id}` and `DELETE /v1/responses/{id}`:
 * OpenAI's Responses API, answered by translating to and from the provider contract
 * and run through the same routing, capability checks, fallback engine (commit
 * point, cooldown, timeouts, metrics) as chat completions.
 */

const stores = new WeakMap<Registry, ResponsesStore>();

/** The registry's store of responses (made on first use, with the config's limits). */
export function responsesStoreOf(registry: Registry): ResponsesStore {
  let store = stores.get(registry);
  if (store === undefined) {
    const { responses } = registry.config;
    store = new ResponsesStore({
      maxEntries: responses.storeMaxEntries,
      ttlSeconds: responses.storeTtlSeconds,
      maxBytes: responses.storeMaxBytes,
    });
    stores.set(registry, store);
  }
  return store;
}

/** Who may read a stored response: the API key's identity when keys are required, else anyone. */
function ownerOf(context: RequestContext): string {
  const keysRequired = context.registry.config.server.apiKeys.length > 0;
  return keysRequired ? clientIdentity(context.request, true) : "";
}

// The chat wire names capability needs are named by, as a Responses client wrote them.
const responsesFieldNames: Readonly<Record<string, string>> = {
  response_format: "text.format",
  max_completion_tokens: "max_output_tokens",
  max_tokens: "max_output_tokens",
  reasoning_effort: "reasoning.effort",
  verbosity: "text.verbosity",
};

function responsesField(field: string): string {
  if (field.startsWith("messages")) return "input";
  return responsesFieldNames[field] ?? field;
}

/** A capability refusal of `routeByCapabilities`, naming the field as a Responses client wrote it. */
function inResponsesWords(error: unknown): unknown {
  if (!(error instanceof HttpError) || error.param === null) return error;
  const field = responsesField(error.param);
  if (field === error.param) return error;
  let message = error.message.startsWith(`${error.param}:`)
    ? `${field}:${error.message.slice(error.param.length + 1)}`
    : error.message;
  message = message.replaceAll(`\`${error.param}\``, `\`${field}\``);
  return new HttpError(error.status, message, {
    type: error.type,
    code: error.code,
    param: field,
    headers: error.headers,
  });
}

/** One candidate as the request runs on it: its call options, and the fields it leaves out (under `drop`). */
interface ResponseRoute {
  readonly candidate: Candidate;
  readonly options: ProviderOptions;
  readonly dropped: readonly string[];
}

/**
 * Route to the candidates that honour every field (capability routing, with
 * `routing.unsupportedFields`), and give each its call options. `max_output_tokens`
 * goes as `max_completion_tokens` (what it means, and what o-series and gpt-5
 * upstreams require) to a model that honours that, else as the older `max_tokens`;
 * a model with neither is routed past (or, under `drop`, called without it).
 */
function routeResponse(
  context: RequestContext,
  request: ResponsesRequest,
  candidates: readonly Candidate[],
  messages: Messages,
  options: ProviderOptions,
): ResponseRoute[] {
  const { maxCompletionTokens: limit, ...rest } = options;
  const policy = context.registry.config.routing.unsupportedFields;
  let routes: CapabilityRoute[];
  try {
    routes = routeByCapabilities(candidates, requestNeeds(messages, rest), rest, {
      unsupportedFields: policy,
      requestedModel: request.model ?? request.provider ?? "",
      pinned: request.provider !== undefined,
    });
  } catch (error) {
    throw inResponsesWords(error);
  }
  const routed: ResponseRoute[] = [];
  for (const route of routes) {
    const dropped = route.dropped.map((need) => responsesField(need.field));
    if (limit === undefined) {
      routed.push({ candidate: route.candidate, options: route.options, dropped });
      continue;
    }
    const { features } = capabilitiesOf(route.candidate.entry.provider, route.candidate.model);
    if (features.includes("maxCompletionTokens"))
      routed.push({
        candidate: route.candidate,
        options: { ...route.options, maxCompletionTokens: limit },
        dropped,
      });
    else if (features.includes("maxTokens"))
      routed.push({
        candidate: route.candidate,
        options: { ...route.options, maxTokens: limit },
        dropped,
      });
    else if (policy === "drop")
      routed.push({
        candidate: route.candidate,
        options: route.options,
        dropped: [...dropped, "max_output_tokens"],
      });
  }
  if (routed.length === 0 && candidates.length > 0)
    throw new HttpError(
      400,
      `max_output_tokens: no enabled provider of "${request.model ?? request.provider ?? ""}" supports a token limit`,
      { code: "unsupported_parameter", param: "max_output_tokens" },
    );
  // Those that honour everything first, then those that drop something.
  return [
    ...routed.filter((route) => route.dropped.length === 0),
    ...routed.filter((route) => route.dropped.length > 0),
  ];
}

function echoOf(request: ResponsesRequest): ResponseEcho {
  const echo: ResponseEcho = {
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: {
      effort: request.reasoning?.effort ?? null,
      summary: request.reasoning?.summary ?? request.reasoning?.generate_summary ?? null,
    },
    service_tier: request.service_tier ?? null,
    store: request.store ?? true,
    temperature: request.temperature ?? 1,
    text: {
      format: request.text?.format ?? { type: "text" },
      ...(request.text?.verbosity == null ? {} : { verbosity: request.text.verbosity }),
    },
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? "disabled",
  };
  if (request.user != null) echo.user = request.user;
  if (request.safety_identifier != null) echo.safety_identifier = request.safety_identifier;
  if (request.prompt_cache_key != null) echo.prompt_cache_key = request.prompt_cache_key;
  return echo;
}

/** What one Responses request runs with, once validated and routed. */
interface ResponseCall {
  readonly id: string;
  readonly createdAt: number;
  readonly request: ResponsesRequest;
  readonly run: FallbackRun;
  readonly echo: ResponseEcho;
  /** The conversation to keep for a later `previous_response_id` (without `instructions`). */
  readonly history: Messages;
  readonly promptCharacters: number;
  readonly owner: string;
  readonly limitBytes: number;
  /** The answer's headers for the candidate that answered: its id, and the fields it dropped. */
  readonly headers: (candidate: Candidate) => Record<string, string>;
}

/** `POST /v1/responses`. */
export async function handleCreateResponse(context: RequestContext, body: unknown): Promise<void> {
  const { registry } = context;
  const { server } = registry.config;
  checkRequestObject(body);
  // Upstreams that serve the Responses API themselves get the request unchanged.
  const native = nativeCandidates(registry, body);
  if (native !== undefined) {
    await answerNatively(context, body, native);
    return;
  }
  const request = parseResponsesRequest(body, server);
  const owner = ownerOf(context);
  const store = responsesStoreOf(registry);
  let previous: Messages = [];
  if (request.previous_response_id != null) {
    const stored = store.get(request.previous_response_id, owner);
    if (stored === undefined)
      throw new HttpError(
        400,
        `Previous response with id '${request.previous_response_id}' not found: it was never stored (store: false), was deleted, or has expired (responses.storeTtlSeconds, responses.storeMaxEntries)`,
        { code: "previous_response_not_found", param: "previous_response_id" },
      );
    previous = stored.conversation;
  }
  const history = [...previous, ...inputMessages(request.input)];
  if (history.length === 0)
    throw new HttpError(400, "`input` is required (or `previous_response_id` to continue from)", {
      code: "invalid_value",
      param: "input",
    });
  const messages = conversationOf(request, history);
  const options = responsesOptions(request);
  // Providers are always asked to stream, as for chat: failures show sooner.
  options.stream = true;
  const resolved = registry.resolve(request.model, request.provider, "chat");
  const routes = routeResponse(context, request, resolved, messages, options);
  const routeOf = new Map(routes.map((route) => [route.candidate, route]));
  const run = registry.run(
    routes.map((route) => route.candidate),
    {
      requestedModel: request.model ?? request.provider ?? "",
      messages,
      options,
      optionsFor: (candidate) => routeOf.get(candidate)?.options ?? options,
      signal: context.signal,
      logger: context.logger,
      requestId: context.requestId,
      client: clientIdentity(context.request, server.apiKeys.length > 0),
    },
  );
  const call: ResponseCall = {
    id: responseItemId("resp"),
    createdAt: Math.floor(Date.now() / 1000),
    request,
    run,
    echo: echoOf(request),
    history,
    promptCharacters: messagesLength(messages),
    owner,
    limitBytes: server.answerLimitBytes ?? defaultAnswerLimitBytes,
    headers: (candidate) => {
      const headers: Record<string, string> = { "x-g4f-provider": candidate.entry.id };
      const dropped = routeOf.get(candidate)?.dropped ?? [];
      if (dropped.length > 0) headers[droppedParamsHeader] = [...new Set(dropped)].join(", ");
      return headers;
    },
  };
  if (request.stream === true) await streamResponse(context, call);
  else await sendResponse(context, call);
}

function assemblerFor(
  call: ResponseCall,
  candidate: Candidate,
  events: boolean,
): ResponseAssembler {
  const summary = call.request.reasoning;
  return new ResponseAssembler(
    {
      id: call.id,
      createdAt: call.createdAt,
      model: candidate.model,
      provider: candidate.entry.id,
      echo: call.echo,
      reasoningSummary: (summary?.summary ?? summary?.generate_summary) != null,
    },
    events,
    call.limitBytes,
  );
}

/** Keep a finished response (`body`, its JSON as sent), unless the request said `store: false`. */
function keep(
  context: RequestContext,
  call: ResponseCall,
  assembler: ResponseAssembler,
  body: string,
): void {
  if (call.request.store === false) return;
  responsesStoreOf(context.registry).put({
    id: call.id,
    owner: call.owner,
    body,
    conversation: [...call.history, assembler.assistantMessage()],
  });
}

/**
 * The JSON answer: gathered whole before anything is sent, so a failure even after
 * content moves on to the next candidate (as for a chat completion).
 */
async function sendResponse(context: RequestContext, call: ResponseCall): Promise<void> {
  const { run } = call;
  try {
    const { candidate, answer: assembler } = await gatherWholeAnswer(run, (attempted) => {
      const assembler = assemblerFor(call, attempted, false);
      return {
        add: (chunk) => {
          assembler.add(chunk);
        },
        finish: () => assembler,
      };
    });
    const { response } = assembler.complete(call.promptCharacters);
    // One JSON text of the response, sent and kept (it holds the whole answer).
    const body = JSON.stringify(response);
    keep(context, call, assembler, body);
    context.provider = candidate.entry.id;
    sendJson(context.response, 200, body, call.headers(candidate));
  } finally {
    context.failedAttempts = run.failures.length;
  }
}

function eventsText(events: readonly ResponseEvent[], sequence: { next: number }): string {
  let text = "";
  for (const event of events) text += responseEventText(event, sequence.next++);
  return text;
}

/**
 * The SSE answer. Nothing is written before the commit point, so until then a
 * failure moves on unseen and an all-failed error is a plain JSON error with its
 * status; `response.created` goes out with the first content. After it, events pass
 * straight through with backpressure, and a failure ends the stream with
 * `response.failed` (the output so far, and the error), never a silent cut.
 *
 * As a chat stream does (see `streamAnswer`): the first events leave at once and
 * the first content's bookkeeping after them; the events of one turn leave in one
 * write (`SseWriter`), read a batch per network read of the provider; the last
 * events leave before the success's bookkeeping (`FallbackRun.succeed`).
 */
async function streamResponse(context: RequestContext, call: ResponseCall): Promise<void> {
  const { run } = call;
  let committed: CommittedAttempt;
  try {
    committed = await run.commit(true);
  } finally {
    context.failedAttempts = run.failures.length;
  }
  const { candidate } = committed;
  writeEventStreamHead(context, run, committed, call.headers(candidate));
  const assembler = assemblerFor(call, candidate, true);
  const sequence = { next: 0 };
  const writer = new SseWriter(context.response);
  try {
    let blocked: Promise<void> | undefined;
    let first = eventsText(assembler.start(), sequence);
    try {
      for (const chunk of committed.leading) first += eventsText(assembler.add(chunk), sequence);
      // The rest of the network read that carried the first content goes with it.
      for (const chunk of committed.attempt.takeBuffered())
        first += eventsText(assembler.add(chunk), sequence);
    } finally {
      // Written even when a chunk threw (an answer past the limit): the events before it.
      blocked = writer.writeNow(first);
      run.releaseFirstContent();
    }
    if (blocked !== undefined) await blocked;
    for (;;) {
      const result = await committed.attempt.nextBatch();
      if (result.done) break;
      // A write a chunk (a string append): a chunk that throws leaves the events before it queued.
      for (const chunk of result.value)
        blocked = writer.write(eventsText(assembler.add(chunk), sequence));
      if (blocked !== undefined) await blocked;
    }
  } catch (error) {
    if (run.clientGone() && !context.endedByShutdown) {
      run.cancel(committed);
      throw new AbortError({ message: "The client closed the request" });
    }
    let code: string;
    let message: string;
    if (context.endedByShutdown) {
      run.cancel(committed);
      code = "server_shutting_down";
      message = "The server is shutting down; the answer is incomplete";
    } else {
      const report = await run.failAfterCommit(committed, error, false);
      context.failedAttempts = run.failures.length;
      const tooLarge =
        ResponseTooLargeError.isInstance(error) && error.limitName === answerLimitName;
      code = tooLarge ? "answer_too_large" : "server_error";
      message = tooLarge
        ? report.message
        : `${candidate.entry.id} failed after the answer had started, so it was not retried elsewhere: ${report.message}`;
    }
    writer.end(eventsText(assembler.fail(code, message), sequence));
    return;
  }
  run.succeed(committed, () => {
    const completed = assembler.complete(call.promptCharacters);
    const { events } = completed;
    // The last event carries the response whole: one JSON text of it, sent and kept.
    const body = JSON.stringify(completed.response);
    const last = events[events.length - 1] as ResponseEvent;
    const closing = eventsText(events.slice(0, -1), sequence);
    writer.end(closing + responseObjectEventText(last.type, body, sequence.next++));
    // Kept in the same turn as the end: no later request can ask for it before.
    keep(context, call, assembler, body);
  });
}

function notFound(id: string): HttpError {
  return new HttpError(404, `No response found with id '${id.slice(0, 256)}'.`, {
    code: "response_not_found",
    param: "response_id",
  });
}

/** `GET /v1/responses/{id}`: a stored response, or a 404. */
export function handleGetResponse(context: RequestContext, id: string): void {
  const stored = responsesStoreOf(context.registry).get(id, ownerOf(context));
  if (stored === undefined) throw notFound(id);
  sendJson(context.response, 200, stored.body);
}

/** `DELETE /v1/responses/{id}`: forget a stored response. */
export function handleDeleteResponse(context: RequestContext, id: string): void {
  if (!responsesStoreOf(context.registry).delete(id, ownerOf(context))) throw notFound(id);
  sendJson(context.response, 200, JSON.stringify({ id, object: "response", deleted: true }));
}
