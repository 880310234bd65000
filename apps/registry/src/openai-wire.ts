import {
  type AssistantMessage,
  contentText,
  type Message,
  type Messages,
  type ProviderOptions,
} from "@g4f-ts/provider-core";
import { RandomUuids, vouchForMessages } from "@g4f-ts/provider-core/internal";
import { z } from "zod";
import { fastChatRequestData, readPlainChatRequest } from "./chat-request-fast-path.js";
import { attachClientMessagesJson } from "./client-messages-json.js";
import {
  type HttpError,
  invalidField,
  tooManyContentParts,
  tooManyMessages,
} from "./http-errors.js";
import { jsonBodyBytesOf } from "./request-body.js";
import { checkRequestObject, schemaError } from "./request-checks.js";

/*
 * The OpenAI wire format: the request schemas (validated with zod, as everything
 * that crosses the boundary) and the answers, written as strings around
 * precomputed prefixes so that shaping a chunk costs one JSON.stringify of its text.
 */

const sampling = (minimum: number, maximum: number) =>
  z.number().min(minimum).max(maximum).nullable().optional();

// Messages and parts are strict: a key the registry does not know is a 400 naming
// it, never a key silently left behind on the way to the provider.
const textPartSchema = z.strictObject({ type: z.literal("text"), text: z.string() });
const imagePartSchema = z.strictObject({
  type: z.literal("image_url"),
  image_url: z.strictObject({
    url: z.string().min(1),
    detail: z.enum(["auto", "low", "high"]).optional(),
  }),
});
const audioPartSchema = z.strictObject({
  type: z.literal("input_audio"),
  input_audio: z.strictObject({ data: z.string().min(1), format: z.string().min(1) }),
});
const filePartSchema = z.strictObject({
  type: z.literal("file"),
  file: z
    .strictObject({
      file_data: z.string().min(1).optional(),
      file_id: z.string().min(1).optional(),
      filename: z.string().optional(),
    })
    .refine((file) => file.file_data !== undefined || file.file_id !== undefined, {
      message: "needs file_data or file_id",
    }),
});
const refusalPartSchema = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });

const textContentSchema = z.union([z.string(), z.array(textPartSchema)]);

const toolCallSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string().min(1), arguments: z.string() }),
});

const messageSchema = z.discriminatedUnion("role", [
  z.strictObject({
    role: z.enum(["system", "developer"]),
    content: textContentSchema,
    name: z.string().optional(),
  }),
  z.strictObject({
    role: z.literal("user"),
    content: z.union([
      z.string(),
      z.array(
        z.discriminatedUnion("type", [
          textPartSchema,
          imagePartSchema,
          audioPartSchema,
          filePartSchema,
        ]),
      ),
    ]),
    name: z.string().optional(),
  }),
  z.strictObject({
    role: z.literal("assistant"),
    content: z
      .union([
        z.string(),
        z.array(z.discriminatedUnion("type", [textPartSchema, refusalPartSchema])),
      ])
      .nullable()
      .optional(),
    name: z.string().optional(),
    refusal: z.string().nullable().optional(),
    tool_calls: z.array(toolCallSchema).max(1024).nullable().optional(),
    function_call: z
      .strictObject({ name: z.string().min(1), arguments: z.string() })
      .nullable()
      .optional(),
    /** Reasoning a g4f or DeepSeek client sends back with an earlier answer. */
    reasoning_content: z.string().nullable().optional(),
  }),
  z.strictObject({
    role: z.literal("tool"),
    content: textContentSchema,
    tool_call_id: z.string().min(1),
  }),
  z.strictObject({
    role: z.literal("function"),
    content: z.string().nullable(),
    name: z.string().min(1),
  }),
]);

// One provider, or several separated by spaces (g4f's IterListProvider order).
const providerPinSchema = z.string().min(1).max(512).optional();

const toolSchema = z.strictObject({
  type: z.literal("function", 'only tools of type "function" are supported'),
  function: z.strictObject({
    name: z.string().min(1).max(256),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const toolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({
    type: z.literal("function"),
    function: z.strictObject({ name: z.string().min(1) }),
  }),
]);

const responseFormatSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    json_schema: z.strictObject({
      name: z.string().min(1).max(64),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

/**
 * The Chat Completions fields the registry reads itself. Every other field of the
 * request (`modalities`, `audio`, `prediction`, `store`, `web_search_options`,
 * `verbosity`, `prompt_cache_key`, `safety_identifier`, legacy `functions`, or
 * one OpenAI adds tomorrow) is kept as it came and forwarded verbatim through the
 * providers' `extraBody`, under the same capability rule as the others.
 */
export const chatRequestSchema = z.object({
  model: z.string().max(256).optional(),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z
    .strictObject({
      include_usage: z.boolean().nullable().optional(),
      // OpenAI's padding of stream events; the registry's events carry none.
      include_obfuscation: z.boolean().nullable().optional(),
    })
    .nullable()
    .optional(),
  max_tokens: z.int().min(1).nullable().optional(),
  max_completion_tokens: z.int().min(1).nullable().optional(),
  temperature: sampling(0, 2),
  top_p: sampling(0, 1),
  frequency_penalty: sampling(-2, 2),
  presence_penalty: sampling(-2, 2),
  n: z.int().min(1).max(128).nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  seed: z.int().nullable().optional(),
  user: z.string().max(256).nullable().optional(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((metadata) => Object.keys(metadata).length <= 16, "holds at most 16 keys")
    .nullable()
    .optional(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.int().min(0).max(20).nullable().optional(),
  reasoning_effort: z.string().min(1).max(32).nullable().optional(),
  service_tier: z.string().min(1).max(32).nullable().optional(),
  tools: z.array(toolSchema).max(128).nullable().optional(),
  tool_choice: toolChoiceSchema.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  response_format: responseFormatSchema.nullable().optional(),
  /** g4f's way to pin one provider. */
  provider: providerPinSchema,
});

/** A validated chat request: the fields the registry reads, and the others as sent. */
export type ChatRequest = z.output<typeof chatRequestSchema> & {
  /** The fields the registry does not read, as sent, for the providers' `extraBody`. */
  extraFields: Record<string, unknown>;
};

export const imageRequestSchema = z.object({
  model: z.string().max(256).optional(),
  // A blank prompt is refused here: every image provider would refuse it, and counting
  // that against them would let one client cool them down for everyone.
  prompt: z.string().min(1).max(32_000).regex(/\S/, "must not be blank"),
  n: z.int().min(1).max(10).nullable().optional(),
  response_format: z.enum(["url", "b64_json"]).nullable().optional(),
  size: z.string().min(1).max(32).nullable().optional(),
  quality: z.string().min(1).max(32).nullable().optional(),
  style: z.string().min(1).max(32).nullable().optional(),
  user: z.string().max(256).nullable().optional(),
  provider: providerPinSchema,
});

/** A validated image request: the fields the registry reads, and the others as sent. */
export type ImageRequest = z.output<typeof imageRequestSchema> & {
  /** The fields the registry does not read (`background`, `output_format`, …), as sent. */
  extraFields: Record<string, unknown>;
};

function parseWith<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  body: unknown,
  fastPath?: typeof fastChatRequestData,
): z.output<z.ZodObject<Shape>> & { extraFields: Record<string, unknown> } {
  checkRequestObject(body);
  // JSON.parse makes `__proto__` an ordinary key, which no copy of the request keeps
  // as a field (an assignment sets the prototype, zod's records leave it out): it
  // would vanish unnamed, so it is refused by name, as OpenAI refuses an unknown field.
  if (Object.hasOwn(body, "__proto__"))
    throw invalidField("__proto__", "Invalid request: `__proto__` is not a request field");
  // The fast path's value is the schema's own, or none (then the schema says why).
  let data = fastPath?.(schema, body);
  if (data === undefined) {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw schemaError(parsed.error);
    data = parsed.data;
  }
  // Keys and a read rather than `Object.entries`: the same fields in the same order,
  // without an array for each of them.
  const extraFields: Record<string, unknown> = {};
  const source = body as Record<string, unknown>;
  for (const field of Object.keys(source)) {
    if (Object.hasOwn(schema.shape, field)) continue;
    const value = source[field];
    if (value !== undefined) extraFields[field] = value;
  }
  // The parsed value is a fresh object of ours: `extraFields` goes onto it rather than
  // into a spread copy. The copy had the same keys in the same order, but reading
  // fields off an object V8 built by spreading zod's output cost about 8 µs a
  // request in `toProviderOptions` (bench/request-parse.mjs), more than the parse.
  const request = data as z.output<z.ZodObject<Shape>> & {
    extraFields: Record<string, unknown>;
  };
  request.extraFields = extraFields;
  return request;
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
  // The common request in one pass; anything else (and every refusal) the general way.
  const request =
    readPlainChatRequest(chatRequestSchema, body, limits) ?? parseChatRequestFully(body, limits);
  // Only a body whose bytes were kept has a text of its messages to find (see `toMessages`).
  if (jsonBodyBytesOf(body) !== undefined) sourceBodies.set(request, body as object);
  return request;
}

/** The general path of `parseChatRequest`: every check, then the request's fields. */
function parseChatRequestFully(body: unknown, limits: ChatRequestLimits): ChatRequest {
  checkSizes(body, limits);
  checkNullContent(body);
  return parseWith(chatRequestSchema, body, fastChatRequestData);
}

// The large body (see `jsonBodyBytesOf`) each chat request was parsed from, for
// `toMessages` to find the client's own JSON text of the messages in.
const sourceBodies = new WeakMap<ChatRequest, object>();

/** A clearer word than the schema's for the common mistake of a null content. */
function checkNullContent(body: unknown): void {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return;
  // An index loop: no iterator, and no `[index, message]` pair for each message.
  for (let index = 0; index < messages.length; index++) {
    const message: unknown = messages[index];
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    if (content == null && role !== "assistant" && role !== "function")
      throw invalidField(
        `messages.${index}.content`,
        `Invalid request: messages.${index}.content must be a string or an array of content parts; only an assistant (or legacy function) message may leave it null`,
      );
  }
}

export function parseImageRequest(body: unknown): ImageRequest {
  return parseWith(imageRequestSchema, body);
}

function textContent(content: string | { type: "text"; text: string }[]) {
  return typeof content === "string" ? content : content.map(({ type, text }) => ({ type, text }));
}

/**
 * The conversation in the core's shape, every form kept as the client wrote it
 * (`developer` stays `developer`; a provider without the role maps it to `system`).
 */
export function toMessages(request: ChatRequest): Messages {
  const messages = request.messages.map(toMessage);
  // Built from messages `chatRequestSchema` validated, which is stricter than the
  // core's check of them: the call pipeline need not walk them again. Every
  // conversation, however short: a walk of one message measured 0.1 µs in a loop
  // of its own, but inside the registry (zod's generic code shared by every schema,
  // run once a request) the core's check of a one-message conversation took about
  // 10 µs of a request's critical path (`node bench/timeline.mjs --profile`),
  // against about 0.2 µs for the WeakMap entry.
  vouchForMessages(messages);
  // A large body read by readJsonBody: its messages' own text goes with them where
  // it says exactly what `messages` says.
  const body = sourceBodies.get(request);
  if (body !== undefined) attachClientMessagesJson(body, messages);
  return messages;
}

function toMessage(message: ChatRequest["messages"][number]): Message {
  switch (message.role) {
    case "system":
    case "developer":
      return withName({ role: message.role, content: textContent(message.content) }, message);
    case "user":
      return withName({ role: "user", content: message.content }, message);
    case "assistant": {
      const assistant: AssistantMessage = { role: "assistant", content: message.content ?? null };
      if (message.name !== undefined) assistant.name = message.name;
      // Kept as sent, nulls included: the upstream gets the message the client wrote.
      if (message.refusal !== undefined) assistant.refusal = message.refusal;
      if (message.tool_calls != null) assistant.tool_calls = message.tool_calls;
      if (message.function_call !== undefined) assistant.function_call = message.function_call;
      if (message.reasoning_content !== undefined)
        assistant.reasoning_content = message.reasoning_content;
      return assistant;
    }
    case "tool":
      return {
        role: "tool",
        content: textContent(message.content),
        tool_call_id: message.tool_call_id,
      };
    default:
      return { role: "function", content: message.content, name: message.name };
  }
}

function withName<Shaped extends Message>(message: Shaped, source: { name?: string | undefined }) {
  if (source.name !== undefined) (message as { name?: string }).name = source.name;
  return message;
}

/**
 * Every field of the request in the core's call options, under their TypeScript
 * names; the fields the registry does not read go into `extraBody` as sent. Never
 * an address, a proxy or a key: those fields are refused before this (see
 * `forbiddenFields`). `max_completion_tokens` stays apart from `max_tokens`: o-series
 * and gpt-5 upstreams refuse the older name.
 */
export function toProviderOptions(request: ChatRequest): ProviderOptions {
  const options: ProviderOptions = {};
  if (request.max_tokens != null) options.maxTokens = request.max_tokens;
  if (request.max_completion_tokens != null)
    options.maxCompletionTokens = request.max_completion_tokens;
  if (request.temperature != null) options.temperature = request.temperature;
  if (request.top_p != null) options.topP = request.top_p;
  if (request.frequency_penalty != null) options.frequencyPenalty = request.frequency_penalty;
  if (request.presence_penalty != null) options.presencePenalty = request.presence_penalty;
  if (request.n != null) options.n = request.n;
  if (request.stop != null) options.stop = request.stop;
  if (request.seed != null) options.seed = request.seed;
  if (request.user != null) options.user = request.user;
  if (request.metadata != null) options.metadata = request.metadata;
  if (request.logit_bias != null) options.logitBias = request.logit_bias;
  if (request.logprobs != null) options.logprobs = request.logprobs;
  if (request.top_logprobs != null) options.topLogprobs = request.top_logprobs;
  if (request.reasoning_effort != null) options.reasoningEffort = request.reasoning_effort;
  if (request.service_tier != null) options.serviceTier = request.service_tier;
  if (request.tools != null) options.tools = request.tools;
  if (request.tool_choice != null) options.toolChoice = request.tool_choice;
  if (request.parallel_tool_calls != null) options.parallelToolCalls = request.parallel_tool_calls;
  if (request.response_format != null) options.responseFormat = request.response_format;
  if (Object.keys(request.extraFields).length > 0) options.extraBody = { ...request.extraFields };
  return options;
}

const completionIds = new RandomUuids("chatcmpl-");

/** A new `chatcmpl-…` id (a random uuid: unique without coordination, as LiteLLM's are). */
export function completionId(): string {
  return completionIds.next();
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

export const doneEvent = "data: [DONE]\n\n";

/** The SSE event that ends a stream which failed after its first content: OpenAI's error shape. */
export function errorEvent(error: HttpError): string {
  return `data: ${JSON.stringify({ error: error.toErrorObject() })}\n\n`;
}

/**
 * The call options of an image request: `n` and `user` under their names, and
 * the fields the core has no name for (`size`, `quality`, `style`,
 * `response_format: "b64_json"`, and any other, such as gpt-image-1's
 * `background`) in `extraBody`, forwarded verbatim by the providers that list
 * `extraBody`. `response_format: "url"` asks for what every provider gives and is
 * not forwarded.
 */
export function toImageOptions(request: ImageRequest): ProviderOptions {
  const options: ProviderOptions = {};
  if (request.n != null) options.n = request.n;
  if (request.user != null) options.user = request.user;
  const extraBody: Record<string, unknown> = { ...request.extraFields };
  if (request.size != null) extraBody.size = request.size;
  if (request.quality != null) extraBody.quality = request.quality;
  if (request.style != null) extraBody.style = request.style;
  if (request.response_format === "b64_json") extraBody.response_format = "b64_json";
  if (Object.keys(extraBody).length > 0) options.extraBody = extraBody;
  return options;
}

/** One image of an `images/generations` answer. */
export type ImageDatum =
  | { url: string; revised_prompt: string }
  | { b64_json: string; revised_prompt: string };

/** The body of an `images/generations` answer. */
export function imagesBody(created: number, provider: string, data: readonly ImageDatum[]): string {
  return JSON.stringify({ created, data, provider });
}

/** The base64 data of a `data:…;base64,` URL, or undefined for any other URL. */
export function base64Of(url: string): string | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  if (comma === -1 || !url.slice(0, comma).endsWith(";base64")) return undefined;
  return url.slice(comma + 1);
}
