import { closeDispatchers, type Provider } from "@g4f-ts/provider-core";
import {
  type RecordedRequest,
  sendJson,
  sendSse,
  startTestServer,
  type TestServer,
} from "@g4f-ts/testkit";
import type { RegistryConfigInput } from "../config.js";
import { type RunningServer, startServer } from "../server.js";

/**
 * A fake OpenAI upstream that records every body it gets and answers each chat
 * request with a scripted turn, as JSON or, when the request says `stream: true`,
 * as SSE split the way OpenAI streams it (content and arguments in pieces, the
 * first tool-call piece with its id, type, name and empty arguments, logprobs with
 * their tokens, usage in a last chunk with empty `choices` when asked for).
 */

/** A tool call of a scripted turn. */
export interface ScriptedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One scripted answer of the upstream (each choice of `n` gets the same, its index in the text). */
export interface UpstreamTurn {
  content?: string;
  refusal?: string;
  reasoning?: string;
  toolCalls?: ScriptedToolCall[];
  finishReason?: string;
  /** `logprobs.content` of the choice, one entry a token. */
  logprobs?: Record<string, unknown>[];
  usage?: Record<string, unknown>;
  systemFingerprint?: string;
  serviceTier?: string;
}

/** An upstream answer: a turn, or an error status with OpenAI's error body. */
export type UpstreamAnswer = UpstreamTurn | { status: number; message: string };

export type UpstreamScript = (body: Record<string, unknown>, index: number) => UpstreamAnswer;

export interface RecordingUpstream {
  readonly server: TestServer;
  /** The base URL a provider is given (`…/v1`). */
  readonly baseUrl: string;
  /** Every chat body received, in order. */
  chatBodies(): Record<string, unknown>[];
  /** Every images body received, in order. */
  imageBodies(): Record<string, unknown>[];
  /** Replaces the script of the chat answers still to come. */
  script(script: UpstreamScript | UpstreamAnswer): void;
  close(): Promise<void>;
}

const created = 1_767_000_000;

function choicesOf(body: Record<string, unknown>): number {
  return typeof body.n === "number" && body.n > 1 ? body.n : 1;
}

function nth(text: string | undefined, index: number): string | undefined {
  return text === undefined || index === 0 ? text : `${text} (${index})`;
}

function finishOf(turn: UpstreamTurn): string {
  return turn.finishReason ?? ((turn.toolCalls?.length ?? 0) > 0 ? "tool_calls" : "stop");
}

function toolCallsOf(turn: UpstreamTurn) {
  return turn.toolCalls?.map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
}

function jsonAnswer(turn: UpstreamTurn, body: Record<string, unknown>): object {
  const choices = Array.from({ length: choicesOf(body) }, (_, index) => {
    const message: Record<string, unknown> = {
      role: "assistant",
      content: nth(turn.content, index) ?? null,
      refusal: nth(turn.refusal, index) ?? null,
    };
    if (turn.toolCalls !== undefined) message.tool_calls = toolCallsOf(turn);
    if (turn.reasoning !== undefined) message.reasoning_content = turn.reasoning;
    return {
      index,
      message,
      logprobs: turn.logprobs === undefined ? null : { content: turn.logprobs, refusal: null },
      finish_reason: finishOf(turn),
    };
  });
  const answer: Record<string, unknown> = {
    id: "chatcmpl-upstream",
    object: "chat.completion",
    created,
    model: body.model,
    choices,
  };
  if (turn.systemFingerprint !== undefined) answer.system_fingerprint = turn.systemFingerprint;
  if (turn.serviceTier !== undefined) answer.service_tier = turn.serviceTier;
  if (turn.usage !== undefined) answer.usage = turn.usage;
  return answer;
}

function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)].filter((piece) => piece !== "");
}

function sseAnswer(turn: UpstreamTurn, body: Record<string, unknown>): object[] {
  const head: Record<string, unknown> = {
    id: "chatcmpl-upstream",
    object: "chat.completion.chunk",
    created,
    model: body.model,
  };
  if (turn.systemFingerprint !== undefined) head.system_fingerprint = turn.systemFingerprint;
  if (turn.serviceTier !== undefined) head.service_tier = turn.serviceTier;
  const events: object[] = [];
  const event = (index: number, delta: object, extra: object = {}) =>
    events.push({
      ...head,
      choices: [{ index, delta, logprobs: null, finish_reason: null, ...extra }],
    });
  for (let index = 0; index < choicesOf(body); index++) {
    event(index, { role: "assistant", content: "" });
    if (turn.reasoning !== undefined) event(index, { reasoning_content: turn.reasoning });
    const content = nth(turn.content, index);
    if (content !== undefined) {
      const pieces = halves(content);
      pieces.forEach((piece, position) => {
        const logprobs = turn.logprobs?.slice(
          position === 0 ? 0 : Math.ceil(turn.logprobs.length / 2),
          position === 0 ? Math.ceil(turn.logprobs.length / 2) : undefined,
        );
        event(
          index,
          { content: piece },
          logprobs === undefined ? {} : { logprobs: { content: logprobs, refusal: null } },
        );
      });
    }
    const refusal = nth(turn.refusal, index);
    if (refusal !== undefined)
      for (const piece of halves(refusal)) event(index, { refusal: piece });
    (turn.toolCalls ?? []).forEach((call, toolIndex) => {
      event(index, {
        tool_calls: [
          {
            index: toolIndex,
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: "" },
          },
        ],
      });
      for (const piece of halves(call.arguments))
        event(index, { tool_calls: [{ index: toolIndex, function: { arguments: piece } }] });
    });
    events.push({
      ...head,
      choices: [{ index, delta: {}, logprobs: null, finish_reason: finishOf(turn) }],
    });
  }
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (turn.usage !== undefined && options?.include_usage === true)
    events.push({ ...head, choices: [], usage: turn.usage });
  return events;
}

function jsonOf(request: RecordedRequest): Record<string, unknown> {
  return (request.json ?? {}) as Record<string, unknown>;
}

/** Starts a recording upstream on 127.0.0.1; by default every chat answer is "Hello". */
export async function startRecordingUpstream(
  initial: UpstreamScript | UpstreamAnswer = { content: "Hello" },
): Promise<RecordingUpstream> {
  let script: UpstreamScript =
    typeof initial === "function" ? initial : () => initial as UpstreamAnswer;
  let chatIndex = 0;
  const server = await startTestServer(async (request, response) => {
    const body = jsonOf(request);
    if (request.path === "/v1/images/generations") {
      const count = typeof body.n === "number" ? body.n : 1;
      const base64 = body.response_format === "b64_json";
      sendJson(response, 200, {
        created,
        data: Array.from({ length: count }, (_, index) =>
          base64
            ? { b64_json: Buffer.from(`image ${index + 1}`).toString("base64") }
            : { url: `https://images.example/${index + 1}.png` },
        ),
      });
      return;
    }
    if (request.path === "/v1/models") {
      sendJson(response, 200, { object: "list", data: [] });
      return;
    }
    const answer = script(body, chatIndex++);
    if ("status" in answer) {
      sendJson(response, answer.status, {
        error: { message: answer.message, type: "server_error", param: null, code: null },
      });
      return;
    }
    if (body.stream === true) await sendSse(response, sseAnswer(answer, body));
    else sendJson(response, 200, jsonAnswer(answer, body));
  });
  const of = (path: string) =>
    server.requests.filter((request) => request.path === path).map(jsonOf);
  return {
    server,
    baseUrl: `${server.url}/v1`,
    chatBodies: () => of("/v1/chat/completions"),
    imageBodies: () => of("/v1/images/generations"),
    script(next) {
      script = typeof next === "function" ? next : () => next;
    },
    close: () => server.close(),
  };
}

/** One OpenAI-compatible provider of a test registry, on its own recording upstream. */
export interface UpstreamProviderOptions {
  id: string;
  upstream: RecordingUpstream;
  models?: string[];
  imageModels?: string[];
  priority?: number;
  /** More options of the provider (its `capabilities`, say). */
  options?: Record<string, unknown>;
}

export interface SurfaceRegistry {
  server: RunningServer;
  close(): Promise<void>;
}

/**
 * A registry server with OpenAI-compatible providers on recording upstreams (one
 * attempt each, no retries, so every upstream body is one request) and in-memory
 * providers (`extra`), on free loopback ports.
 */
export async function startSurfaceRegistry(
  providers: UpstreamProviderOptions[],
  config: RegistryConfigInput = {},
  extra: Provider[] = [],
): Promise<SurfaceRegistry> {
  const server = await startServer({
    discover: false,
    port: 0,
    env: {},
    providers: extra,
    config: {
      logLevel: "silent",
      ...config,
      discovery: { installed: false },
      routing: {
        timeouts: { firstChunkMs: 5_000, idleMs: 5_000, totalMs: 20_000 },
        ...config.routing,
      },
      providers: providers.map((provider) => ({
        id: provider.id,
        use: "@g4f-ts/provider-openai-compatible",
        priority: provider.priority ?? 0,
        options: {
          baseUrl: provider.upstream.baseUrl,
          models: provider.models ?? ["gpt-4o-mini"],
          ...(provider.imageModels === undefined ? {} : { imageModels: provider.imageModels }),
          retry: { maxAttempts: 1 },
          timeouts: { connectMs: 1_000 },
          ...provider.options,
        },
      })),
    },
  });
  if (server.registry.problems.length > 0)
    throw new Error(`the registry skipped providers: ${JSON.stringify(server.registry.problems)}`);
  return {
    server,
    close: async () => {
      await server.close(0);
      await closeDispatchers();
    },
  };
}
