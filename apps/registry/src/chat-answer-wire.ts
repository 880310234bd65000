import type { ResponseMetadata, ToolCall, Usage } from "@g4f-ts/provider-core";
import type { GatheredAnswer, GatheredChoice, GatheredLogprobs } from "./answer-collector.js";
import { estimateTokens } from "./openai-wire.js";

/*
 * The answers of `/v1/chat/completions` in OpenAI's shapes: the streamed
 * `chat.completion.chunk` events and the one-piece `chat.completion`, written as
 * strings around precomputed prefixes so that shaping a text chunk costs one
 * JSON.stringify of its text.
 */

/** The usage object of an answer, as OpenAI writes it. */
export interface UsageObject {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: Readonly<Record<string, unknown>>;
  completion_tokens_details?: Readonly<Record<string, unknown>>;
  /**
   * Present (and true) only when the counts are a guess: the provider marked its
   * usage as estimated, or reported none and the registry counted four characters a
   * token. Clients that do not know the field ignore it.
   */
  estimated?: true;
}

/**
 * The usage of an answer: the provider's as it reported it, `*_details` kept; or,
 * when it reported none, an estimate from the characters, marked `estimated`.
 */
export function usageObject(
  reported: Usage | undefined,
  promptCharacters: number,
  completionCharacters: number,
): UsageObject {
  if (reported !== undefined) {
    const usage: UsageObject = {
      // The upstream's other keys (DeepSeek's cache hits, OpenRouter's cost) first: the counts below win.
      ...reported.extra,
      prompt_tokens: reported.promptTokens,
      completion_tokens: reported.completionTokens,
      total_tokens: reported.totalTokens,
    };
    if (reported.promptTokensDetails !== undefined)
      usage.prompt_tokens_details = reported.promptTokensDetails;
    if (reported.completionTokensDetails !== undefined)
      usage.completion_tokens_details = reported.completionTokensDetails;
    if (reported.estimated) usage.estimated = true;
    return usage;
  }
  const prompt = estimateTokens(promptCharacters);
  const completion = estimateTokens(completionCharacters);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    estimated: true,
  };
}

/** The response header that says an answer's usage is an estimate (JSON answers). */
export const usageEstimatedHeader = "x-g4f-usage-estimated";

/** The response header naming the request fields dropped for the provider that answered. */
export const droppedParamsHeader = "x-g4f-dropped-params";

function metadataFields(metadata: ResponseMetadata | undefined): string {
  if (metadata === undefined) return "";
  let fields = "";
  if (metadata.serviceTier !== undefined)
    fields += `"service_tier":${JSON.stringify(metadata.serviceTier)},`;
  if (metadata.systemFingerprint !== undefined)
    fields += `"system_fingerprint":${JSON.stringify(metadata.systemFingerprint)},`;
  return fields;
}

/**
 * Writes the SSE events of one streamed chat completion, as OpenAI streams them.
 * Every event shares the same id, `created`, model and provider (and, once the
 * upstream named them, its `service_tier` and `system_fingerprint`), so that part
 * is built once. The first delta of each choice carries `"role":"assistant"`.
 */
export class ChatChunkEncoder {
  #prefix = "";
  readonly #head: string;
  /** Whether choice 0 has had its role; the other choices' (`n` > 1) in `#otherRolesSent`. */
  #firstRoleSent = false;
  #otherRolesSent: Set<number> | undefined;

  constructor(id: string, created: number, model: string, provider: string) {
    this.#head = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"provider":${JSON.stringify(provider)},`;
    this.#prefix = `${this.#head}"choices":[`;
  }

  /** The upstream's `system_fingerprint` and `service_tier`, written into every later event. */
  metadata(metadata: ResponseMetadata): void {
    this.#prefix = `${this.#head}${metadataFields(metadata)}"choices":[`;
  }

  /** True the first time a choice is named: its first delta carries the role. */
  #takeRole(index: number): boolean {
    if (index === 0) {
      if (this.#firstRoleSent) return false;
      this.#firstRoleSent = true;
      return true;
    }
    this.#otherRolesSent ??= new Set();
    if (this.#otherRolesSent.has(index)) return false;
    this.#otherRolesSent.add(index);
    return true;
  }

  #delta(index: number, fields: string, extra = ""): string {
    let role = "";
    if (this.#takeRole(index)) role = fields === "" ? '"role":"assistant"' : '"role":"assistant",';
    return `${this.#prefix}{"index":${index},"delta":{${role}${fields}}${extra},"finish_reason":null}]}\n\n`;
  }

  content(text: string, index = 0): string {
    return this.#delta(index, `"content":${JSON.stringify(text)}`);
  }

  reasoning(text: string, index = 0): string {
    return this.#delta(index, `"reasoning_content":${JSON.stringify(text)}`);
  }

  refusal(text: string, index = 0): string {
    return this.#delta(index, `"refusal":${JSON.stringify(text)}`);
  }

  /** The first piece of a tool call: its index, id, type and name, and `arguments: ""`, as OpenAI sends it. */
  toolCallStart(
    toolIndex: number,
    id: string | undefined,
    name: string | undefined,
    index = 0,
  ): string {
    const call: Record<string, unknown> = { index: toolIndex };
    if (id !== undefined) {
      call.id = id;
      call.type = "function";
    }
    call.function = { name: name ?? "", arguments: "" };
    return this.#delta(index, `"tool_calls":[${JSON.stringify(call)}]`);
  }

  /** A later piece of a tool call: its index and the next piece of its arguments. */
  toolCallArguments(toolIndex: number, text: string, index = 0): string {
    return this.#delta(
      index,
      `"tool_calls":[{"index":${toolIndex},"function":{"arguments":${JSON.stringify(text)}}}]`,
    );
  }

  logprobs(logprobs: GatheredLogprobs, index = 0): string {
    return this.#delta(index, "", `,"logprobs":${JSON.stringify(logprobs)}`);
  }

  /** The last event of a choice; it carries the role when nothing else did (a filtered answer). */
  finish(reason: string, index = 0): string {
    const role = this.#takeRole(index) ? '"role":"assistant"' : "";
    return `${this.#prefix}{"index":${index},"delta":{${role}},"finish_reason":${JSON.stringify(reason)}}]}\n\n`;
  }

  usage(usage: UsageObject): string {
    return `${this.#prefix}],"usage":${JSON.stringify(usage)}}\n\n`;
  }
}

/** The finish reason of a choice: the upstream's, else `tool_calls` when it called tools, else `stop`. */
export function finishReasonOf(reason: string | undefined, calledTools: boolean): string {
  return reason ?? (calledTools ? "tool_calls" : "stop");
}

function messageOf(choice: GatheredChoice): string {
  const onlyOther = choice.content === "" && (choice.toolCalls.length > 0 || choice.refusal !== "");
  let message = `{"role":"assistant","content":${onlyOther ? "null" : JSON.stringify(choice.content)},"refusal":${choice.refusal === "" ? "null" : JSON.stringify(choice.refusal)}`;
  if (choice.toolCalls.length > 0) message += `,"tool_calls":${toolCallsJson(choice.toolCalls)}`;
  if (choice.reasoning !== "")
    message += `,"reasoning_content":${JSON.stringify(choice.reasoning)}`;
  return `${message}}`;
}

function toolCallsJson(calls: readonly ToolCall[]): string {
  return JSON.stringify(
    calls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.function.name, arguments: call.function.arguments },
    })),
  );
}

/** Characters of an answer's choices, for a usage estimate. */
export function answerCharacters(answer: GatheredAnswer): number {
  let characters = 0;
  for (const choice of answer.choices) {
    characters += choice.content.length + choice.reasoning.length + choice.refusal.length;
    for (const call of choice.toolCalls)
      characters += call.function.name.length + call.function.arguments.length;
  }
  return characters;
}

function choiceJson(choice: GatheredChoice): string {
  return `{"index":${choice.index},"message":${messageOf(choice)},"logprobs":${choice.logprobs === undefined ? "null" : JSON.stringify(choice.logprobs)},"finish_reason":${JSON.stringify(finishReasonOf(choice.finishReason, choice.toolCalls.length > 0))}}`;
}

/**
 * The body of a non-streamed `chat.completion`, written as a string around its
 * variable parts (as the chunk encoder does) rather than built as an object and
 * stringified whole: it is on every JSON answer's path.
 */
export function chatCompletionBody(
  id: string,
  created: number,
  model: string,
  provider: string,
  answer: GatheredAnswer,
  usage: UsageObject,
): string {
  // (One choice, the common answer, without an array of one to join.)
  const choices =
    answer.choices.length === 1
      ? choiceJson(answer.choices[0] as GatheredChoice)
      : answer.choices.map(choiceJson).join(",");
  return `{"id":${JSON.stringify(id)},"object":"chat.completion","created":${created},"model":${JSON.stringify(model)},"provider":${JSON.stringify(provider)},${metadataFields(answer.metadata)}"choices":[${choices}],"usage":${JSON.stringify(usage)}}`;
}
