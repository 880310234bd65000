import { randomUUID } from "node:crypto";
import {
  contentText,
  type Message,
  type Messages,
  type ProviderOptions,
} from "@g4f-ts/provider-core";
import { formatSchemaIssues } from "@g4f-ts/provider-core/internal";
import { type ZodError, z } from "zod";
import type { GatheredAnswer } from "./answer-collector.js";
import { HttpError, invalidField, tooManyContentParts, tooManyMessages } from "./http-errors.js";

/*
 * The OpenAI wire format: the request schemas (validated with zod, as everything
 * that crosses the boundary) and the answers, written as strings around
 * precomputed prefixes so that shaping a chunk costs one JSON.stringify of its text.
 */

const sampling = (minimum: number, maximum: number) =>
  z.number().min(minimum).max(maximum).nullable().optional();

const textPartSchema = z.object({ type: z.literal("text"), text: z.string() });
const imagePartSchema = z.object({
  type: z.literal("image_url"),
  image_url: z.object({
    url: z.string().min(1),
    detail: z.enum(["auto", "low", "high"]).optional(),
  }),
});

const messageSchema = z.object({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z
    .union([z.string(), z.array(z.discriminatedUnion("type", [textPartSchema, imagePartSchema]))])
    .nullable()
    .optional(),
});

// One provider, or several separated by spaces (g4f's IterListProvider order).
const providerPinSchema = z.string().min(1).max(512).optional();

export const chatRequestSchema = z.object({
  model: z.string().max(256).optional(),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z
    .object({ include_usage: z.boolean().nullable().optional() })
    .nullable()
    .optional(),
  max_tokens: z.int().min(1).nullable().optional(),
  max_completion_tokens: z.int().min(1).nullable().optional(),
  temperature: sampling(0, 2),
  top_p: sampling(0, 1),
  frequency_penalty: sampling(-2, 2),
  presence_penalty: sampling(-2, 2),
  n: z.literal(1, "only n = 1 is supported").nullable().optional(),
  /** g4f's way to pin one provider. */
  provider: providerPinSchema,
});

export type ChatRequest = z.output<typeof chatRequestSchema>;

export const imageRequestSchema = z.object({
  model: z.string().max(256).optional(),
  // A blank prompt is refused here: every image provider would refuse it, and counting
  // that against them would let one client cool them down for everyone.
  prompt: z.string().min(1).max(32_000).regex(/\S/, "must not be blank"),
  n: z.int().min(1).max(10).nullable().optional(),
  response_format: z.literal("url", 'only "url" is supported').nullable().optional(),
  size: z.string().nullable().optional(),
  provider: providerPinSchema,
});

export type ImageRequest = z.output<typeof imageRequestSchema>;

/**
 * Fields that would make the server fetch an address of the caller's choosing.
 * They come from the config only, so a request that sets one is refused rather
 * than quietly ignored.
 */
const forbiddenFields = [
  "proxy",
  "base_url",
  "baseUrl",
  "baseURL",
  "api_base",
  "apiBase",
  "upstream",
] as const;

function schemaError(error: ZodError): HttpError {
  const first = error.issues[0];
  const param = first === undefined || first.path.length === 0 ? null : first.path.join(".");
  return new HttpError(400, `Invalid request: ${formatSchemaIssues(error)}`, {
    code: "invalid_value",
    param,
  });
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new HttpError(400, "The request body must be a JSON object", { code: "invalid_value" });
  for (const field of forbiddenFields) {
    if (Object.hasOwn(body, field))
      throw invalidField(
        field,
        `\`${field}\` can not be set by a request; upstream addresses and proxies come from the server's config`,
      );
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw schemaError(parsed.error);
  return parsed.data;
}

/** How much one chat request may hold; validating costs a few microseconds an item. */
export interface ChatRequestLimits {
  maxMessages?: number;
  /** Content parts over all messages. */
  maxContentParts?: number;
}

/** Count messages and content parts before the schema walks them (a loop over arrays, no more). */
function checkSizes(body: unknown, limits: ChatRequestLimits): void {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return;
  const maxMessages = limits.maxMessages ?? Number.POSITIVE_INFINITY;
  if (messages.length > maxMessages) throw tooManyMessages(maxMessages);
  const maxParts = limits.maxContentParts ?? Number.POSITIVE_INFINITY;
  let parts = 0;
  for (const message of messages) {
    const content = (message as { content?: unknown } | null)?.content;
    if (Array.isArray(content)) parts += content.length;
    if (parts > maxParts) throw tooManyContentParts(maxParts);
  }
}

/**
 * Validate a chat request. More messages or content parts than the limits allow are
 * refused before the schema looks at them, so that validating a huge conversation
 * never holds the event loop for long. Only an assistant message may leave its
 * `content` null (OpenAI refuses the others); a provider would otherwise get an
 * empty turn the client never wrote.
 */
export function parseChatRequest(body: unknown, limits: ChatRequestLimits = {}): ChatRequest {
  checkSizes(body, limits);
  const request = parseWith(chatRequestSchema, body);
  for (const [index, message] of request.messages.entries()) {
    if (message.role !== "assistant" && message.content == null)
      throw invalidField(
        `messages.${index}.content`,
        `Invalid request: messages.${index}.content must be a string or an array of content parts; only an assistant message may leave it null`,
      );
  }
  return request;
}

export function parseImageRequest(body: unknown): ImageRequest {
  return parseWith(imageRequestSchema, body);
}

/** The conversation in the core's shape (`developer` is OpenAI's newer name for `system`). */
export function toMessages(request: ChatRequest): Messages {
  return request.messages.map((message): Message => {
    const role = message.role === "developer" ? "system" : message.role;
    return { role, content: message.content ?? "" } as Message;
  });
}

/** Only the sampling parameters reach a provider: never an address, a proxy or a key. */
export function toProviderOptions(request: ChatRequest): ProviderOptions {
  const options: ProviderOptions = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) options.maxTokens = maxTokens;
  if (request.temperature != null) options.temperature = request.temperature;
  if (request.top_p != null) options.topP = request.top_p;
  if (request.frequency_penalty != null) options.frequencyPenalty = request.frequency_penalty;
  if (request.presence_penalty != null) options.presencePenalty = request.presence_penalty;
  return options;
}

/** A new `chatcmpl-…` id (a random uuid: unique without coordination, as LiteLLM's are). */
export function completionId(): string {
  return `chatcmpl-${randomUUID()}`;
}

/** A rough token count (four characters a token) for providers that report no usage. */
export function estimateTokens(characters: number): number {
  return Math.ceil(characters / 4);
}

/** Characters of a conversation's text, for the usage estimate. */
export function messagesLength(messages: Messages): number {
  let length = 0;
  for (const message of messages) length += contentText(message.content).length;
  return length;
}

export interface UsageCounts {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageCounts(
  reported: { promptTokens: number; completionTokens: number; totalTokens: number } | undefined,
  promptCharacters: number,
  completionCharacters: number,
): UsageCounts {
  if (reported !== undefined)
    return {
      prompt_tokens: reported.promptTokens,
      completion_tokens: reported.completionTokens,
      total_tokens: reported.totalTokens,
    };
  const prompt = estimateTokens(promptCharacters);
  const completion = estimateTokens(completionCharacters);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

/**
 * Writes the SSE events of one streamed chat completion. Every event shares the
 * same id, `created`, model and provider, so that part is built once.
 */
export class ChatChunkEncoder {
  readonly #prefix: string;
  #sentRole = false;

  constructor(id: string, created: number, model: string, provider: string) {
    this.#prefix = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"provider":${JSON.stringify(provider)},"choices":[`;
  }

  #role(): string {
    if (this.#sentRole) return "";
    this.#sentRole = true;
    return '"role":"assistant",';
  }

  content(text: string): string {
    return `${this.#prefix}{"index":0,"delta":{${this.#role()}"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`;
  }

  reasoning(text: string): string {
    return `${this.#prefix}{"index":0,"delta":{${this.#role()}"reasoning_content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`;
  }

  finish(reason: string): string {
    return `${this.#prefix}{"index":0,"delta":{},"finish_reason":${JSON.stringify(reason)}}]}\n\n`;
  }

  usage(usage: UsageCounts): string {
    return `${this.#prefix}],"usage":${JSON.stringify(usage)}}\n\n`;
  }
}

export const doneEvent = "data: [DONE]\n\n";

/** The SSE event that ends a stream which failed after its first content: OpenAI's error shape. */
export function errorEvent(error: HttpError): string {
  return `data: ${JSON.stringify({ error: error.toErrorObject() })}\n\n`;
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
  promptCharacters: number,
): string {
  const reasoning =
    answer.reasoning === "" ? "" : `,"reasoning_content":${JSON.stringify(answer.reasoning)}`;
  const usage = usageCounts(
    answer.usage,
    promptCharacters,
    answer.content.length + answer.reasoning.length,
  );
  return `{"id":${JSON.stringify(id)},"object":"chat.completion","created":${created},"model":${JSON.stringify(model)},"provider":${JSON.stringify(provider)},"choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(answer.content)}${reasoning}},"logprobs":null,"finish_reason":${JSON.stringify(answer.finishReason ?? "stop")}}],"usage":${JSON.stringify(usage)}}`;
}

/** The body of an `images/generations` answer. */
export function imagesBody(
  created: number,
  provider: string,
  urls: readonly string[],
  prompt: string,
): string {
  return JSON.stringify({
    created,
    data: urls.map((url) => ({ url, revised_prompt: prompt })),
    provider,
  });
}
