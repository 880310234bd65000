import type {
  AssistantMessage,
  Message,
  MessageContentPart,
  Messages,
  ProviderOptions,
  ResponseFormat,
  TextContentPart,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from "@g4f-ts/provider-core";
import { formatSchemaIssues } from "@g4f-ts/provider-core/internal";
import { z } from "zod";
import { HttpError, invalidField } from "./http-errors.js";
import { checkRequestObject, schemaError } from "./request-checks.js";

/*
 * The Responses API request (`POST /v1/responses`) and its translation to the
 * provider contract: input items become chat messages, the options become
 * `ProviderOptions`. Every field is honoured here, translated for the provider
 * (whose capabilities routing then checks), or refused with a 400 naming it; none is
 * dropped on the way.
 */

const nullable = <Schema extends z.ZodType>(schema: Schema) => schema.nullable().optional();

const functionToolSchema = z.object({
  type: z.literal("function"),
  name: z.string().min(1).max(256),
  description: nullable(z.string()),
  parameters: nullable(z.record(z.string(), z.unknown())),
  strict: nullable(z.boolean()),
});

const textFormatSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().min(1).max(64),
    schema: z.record(z.string(), z.unknown()),
    description: nullable(z.string()),
    strict: nullable(z.boolean()),
  }),
]);

/** The fields of a Responses request this server knows, and what each must be. */
const responsesRequestSchema = z.object({
  model: z.string().max(256).optional(),
  input: z.union([z.string(), z.array(z.unknown())]).optional(),
  instructions: nullable(z.string()),
  tools: nullable(z.array(z.unknown())),
  tool_choice: nullable(z.unknown()),
  parallel_tool_calls: nullable(z.boolean()),
  text: nullable(
    z.object({
      format: nullable(textFormatSchema),
      verbosity: nullable(z.enum(["low", "medium", "high"])),
    }),
  ),
  max_output_tokens: nullable(z.int().min(1)),
  temperature: nullable(z.number().min(0).max(2)),
  top_p: nullable(z.number().min(0).max(1)),
  reasoning: nullable(
    z.object({
      effort: nullable(z.string().min(1).max(32)),
      summary: nullable(z.enum(["auto", "concise", "detailed"])),
      generate_summary: nullable(z.enum(["auto", "concise", "detailed"])),
    }),
  ),
  metadata: nullable(z.record(z.string().max(64), z.string().max(512))),
  store: nullable(z.boolean()),
  stream: nullable(z.boolean()),
  stream_options: nullable(z.object({ include_obfuscation: nullable(z.boolean()) })),
  previous_response_id: nullable(z.string().min(1).max(256)),
  user: nullable(z.string().max(256)),
  safety_identifier: nullable(z.string().max(256)),
  prompt_cache_key: nullable(z.string().max(256)),
  prompt_cache_retention: nullable(z.string().max(32)),
  service_tier: nullable(z.string().max(32)),
  truncation: nullable(z.enum(["auto", "disabled"])),
  include: nullable(z.array(z.string())),
  background: nullable(z.boolean()),
  top_logprobs: nullable(z.int().min(0).max(20)),
  max_tool_calls: nullable(z.int().min(1)),
  conversation: nullable(z.unknown()),
  prompt: nullable(z.unknown()),
  context_management: nullable(z.unknown()),
  moderation: nullable(z.unknown()),
  /** g4f's way to pin one provider (or several, separated by spaces). */
  provider: z.string().min(1).max(512).optional(),
});

export type ResponsesRequest = z.output<typeof responsesRequestSchema>;

const knownFields = new Set(Object.keys(responsesRequestSchema.shape));

/**
 * Fields of OpenAI's Responses API this server can not honour, refused (when set to
 * anything but their neutral value) with the reason, rather than ignored.
 */
const refusedFields: readonly {
  field: keyof ResponsesRequest;
  set: (request: ResponsesRequest) => boolean;
  reason: string;
}[] = [
  {
    field: "background",
    set: (request) => request.background === true,
    reason: "background responses are not supported by this server",
  },
  {
    field: "conversation",
    set: (request) => request.conversation != null,
    reason:
      "conversations are not supported by this server; chain turns with `previous_response_id`",
  },
  {
    field: "prompt",
    set: (request) => request.prompt != null,
    reason: "stored prompt templates are not supported by this server",
  },
  {
    field: "include",
    set: (request) => (request.include?.length ?? 0) > 0,
    reason: "no additional output data can be included by this server",
  },
  {
    field: "top_logprobs",
    set: (request) => request.top_logprobs != null,
    reason: "log probabilities are not returned by this server's Responses API",
  },
  {
    field: "truncation",
    set: (request) => request.truncation === "auto",
    reason: 'automatic truncation is not supported by this server; only "disabled"',
  },
  {
    field: "max_tool_calls",
    set: (request) => request.max_tool_calls != null,
    reason: "a limit on built-in tool calls is not supported by this server",
  },
  {
    field: "context_management",
    set: (request) => request.context_management != null,
    reason: "context management is not supported by this server",
  },
  {
    field: "moderation",
    set: (request) => request.moderation != null,
    reason: "moderation settings are not supported by this server",
  },
];

function unsupported(param: string, message: string): HttpError {
  return new HttpError(400, message, { code: "unsupported_parameter", param });
}

/** How much one Responses request may hold (the chat limits, applied to input items and their parts). */
export interface ResponsesRequestLimits {
  maxMessages?: number;
  maxContentParts?: number;
}

/**
 * Validate a Responses request: an unknown field is a 400 naming it (as OpenAI
 * answers `Unknown parameter`), a known one this server can not honour a 400 with
 * the reason.
 */
export function parseResponsesRequest(
  body: unknown,
  limits: ResponsesRequestLimits = {},
): ResponsesRequest {
  checkRequestObject(body);
  for (const field of Object.keys(body)) {
    if (!knownFields.has(field))
      throw new HttpError(400, `Unknown parameter: '${field.slice(0, 100)}'.`, {
        code: "unknown_parameter",
        param: field.slice(0, 100),
      });
  }
  checkSizes(body as { input?: unknown }, limits);
  const parsed = responsesRequestSchema.safeParse(body);
  if (!parsed.success) throw schemaError(parsed.error);
  const request = parsed.data;
  for (const refused of refusedFields) {
    if (refused.set(request))
      throw unsupported(refused.field, `\`${refused.field}\`: ${refused.reason}`);
  }
  return request;
}

function checkSizes(body: { input?: unknown }, limits: ResponsesRequestLimits): void {
  const { input } = body;
  if (!Array.isArray(input)) return;
  const maxItems = limits.maxMessages ?? Number.POSITIVE_INFINITY;
  if (input.length > maxItems)
    throw new HttpError(
      400,
      `The request has more than ${maxItems} input items, the limit of server.maxMessages`,
      { code: "too_many_messages", param: "input" },
    );
  const maxParts = limits.maxContentParts ?? Number.POSITIVE_INFINITY;
  let parts = 0;
  for (const item of input) {
    const content = (item as { content?: unknown } | null)?.content;
    if (Array.isArray(content)) parts += content.length;
    if (parts > maxParts)
      throw new HttpError(
        400,
        `The request's input items have more than ${maxParts} content parts in all, the limit of server.maxContentParts`,
        { code: "too_many_content_parts", param: "input" },
      );
  }
}

const inputTextSchema = z.object({ type: z.literal("input_text"), text: z.string() });
// Text an earlier turn gave, or text of either kind where both make sense.
const anyTextSchema = z.object({ type: z.enum(["input_text", "output_text"]), text: z.string() });
const refusalSchema = z.object({ type: z.literal("refusal"), refusal: z.string() });
const inputImageSchema = z.object({
  type: z.literal("input_image"),
  image_url: nullable(z.string().min(1)),
  file_id: nullable(z.string()),
  detail: nullable(z.enum(["auto", "low", "high"])),
});
const inputFileSchema = z.object({
  type: z.literal("input_file"),
  file_data: nullable(z.string()),
  file_id: nullable(z.string()),
  filename: nullable(z.string()),
  file_url: nullable(z.string()),
});
const inputAudioSchema = z.object({
  type: z.literal("input_audio"),
  input_audio: z.object({ data: z.string(), format: z.string() }),
});

const messageItemSchema = z.object({
  type: z.literal("message").optional(),
  role: z.enum(["user", "system", "developer", "assistant"]),
  content: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())]),
  id: nullable(z.string()),
  status: nullable(z.string()),
});

const functionCallItemSchema = z.object({
  type: z.literal("function_call"),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  id: nullable(z.string()),
  status: nullable(z.string()),
});

const functionCallOutputItemSchema = z.object({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())]),
  id: nullable(z.string()),
  status: nullable(z.string()),
});

function parseAt<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const param = [path, ...(first?.path ?? []).map(String)].join(".");
  throw new HttpError(400, `Invalid request: ${path}: ${formatSchemaIssues(parsed.error)}`, {
    code: "invalid_value",
    param,
  });
}

/** A user, system or developer message's content part, as the contract names it. */
function inputPart(part: { type: string }, path: string): MessageContentPart {
  switch (part.type) {
    case "input_text":
      return { type: "text", text: parseAt(inputTextSchema, part, path).text };
    case "input_image": {
      const image = parseAt(inputImageSchema, part, path);
      if (image.image_url == null)
        throw unsupported(
          `${path}.file_id`,
          `\`${path}\`: images by file id are not supported by this server; send \`image_url\` (an http(s) or data: URL)`,
        );
      return {
        type: "image_url",
        image_url:
          image.detail == null
            ? { url: image.image_url }
            : { url: image.image_url, detail: image.detail },
      };
    }
    case "input_file": {
      const file = parseAt(inputFileSchema, part, path);
      if (file.file_url != null)
        throw unsupported(
          `${path}.file_url`,
          `\`${path}.file_url\`: files by URL are not supported by this server; send \`file_data\``,
        );
      const filePart: { file_data?: string; file_id?: string; filename?: string } = {};
      if (file.file_data != null) filePart.file_data = file.file_data;
      if (file.file_id != null) filePart.file_id = file.file_id;
      if (file.filename != null) filePart.filename = file.filename;
      return { type: "file", file: filePart };
    }
    case "input_audio":
      return {
        type: "input_audio",
        input_audio: parseAt(inputAudioSchema, part, path).input_audio,
      };
    default:
      throw invalidField(
        `${path}.type`,
        `Invalid request: ${path}.type "${part.type.slice(0, 64)}" is not a content part of an input message (input_text, input_image, input_file, input_audio)`,
      );
  }
}

function messageItem(value: unknown, path: string): Message {
  const item = parseAt(messageItemSchema, value, path);
  const role = item.role === "developer" ? "system" : item.role;
  if (role === "assistant") {
    if (typeof item.content === "string") return { role, content: item.content };
    const texts: string[] = [];
    const refusals: string[] = [];
    item.content.forEach((part, index) => {
      const partPath = `${path}.content.${index}`;
      if (part.type === "output_text" || part.type === "input_text")
        texts.push(parseAt(anyTextSchema, part, partPath).text);
      else if (part.type === "refusal")
        refusals.push(parseAt(refusalSchema, part, partPath).refusal);
      else
        throw invalidField(
          `${partPath}.type`,
          `Invalid request: ${partPath}.type "${part.type.slice(0, 64)}" is not a content part of an assistant message (output_text, refusal)`,
        );
    });
    const message: AssistantMessage = { role, content: texts.join("") };
    if (refusals.length > 0) message.refusal = refusals.join("");
    return message;
  }
  if (typeof item.content === "string") return { role, content: item.content } as Message;
  const parts = item.content.map((part, index) => inputPart(part, `${path}.content.${index}`));
  if (role === "system") {
    const texts = parts.filter((part): part is TextContentPart => part.type === "text");
    if (texts.length !== parts.length)
      throw invalidField(
        `${path}.content`,
        `Invalid request: ${path}: a ${item.role} message may hold text only`,
      );
    return { role, content: texts };
  }
  return { role, content: parts };
}

function toolOutput(value: unknown, path: string): Message {
  const item = parseAt(functionCallOutputItemSchema, value, path);
  if (typeof item.output === "string")
    return { role: "tool", tool_call_id: item.call_id, content: item.output };
  const texts = item.output.map((part, index): TextContentPart => {
    const partPath = `${path}.output.${index}`;
    if (part.type !== "input_text" && part.type !== "output_text")
      throw unsupported(
        `${partPath}.type`,
        `\`${partPath}\`: a function call's output may hold text only on this server (chat providers take text tool results)`,
      );
    return { type: "text", text: parseAt(anyTextSchema, part, partPath).text };
  });
  return { role: "tool", tool_call_id: item.call_id, content: texts };
}

/**
 * The conversation of a request's `input`, in the contract's message forms: a
 * string is one user message; messages keep their role (`developer` becomes
 * `system`); consecutive `function_call` items become one assistant message with
 * `tool_calls` (joined to the assistant text just before them), and each
 * `function_call_output` a `tool` message. Reasoning items of earlier turns are
 * passed over, as chat upstreams take no reasoning back; any other item type is a
 * 400 naming it.
 */
export function inputMessages(input: ResponsesRequest["input"]): Messages {
  if (input === undefined) return [];
  if (typeof input === "string") return [{ role: "user", content: input }];
  const messages: Messages = [];
  input.forEach((value, index) => {
    const path = `input.${index}`;
    const type =
      typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
    if (type === undefined || type === "message") {
      messages.push(messageItem(value, path));
      return;
    }
    if (type === "function_call") {
      const item = parseAt(functionCallItemSchema, value, path);
      const call: ToolCall = {
        id: item.call_id,
        type: "function",
        function: { name: item.name, arguments: item.arguments },
      };
      const last = messages.at(-1);
      if (last?.role === "assistant") {
        last.tool_calls = [...(last.tool_calls ?? []), call];
        if (last.content === "") last.content = null;
      } else messages.push({ role: "assistant", content: null, tool_calls: [call] });
      return;
    }
    if (type === "function_call_output") {
      messages.push(toolOutput(value, path));
      return;
    }
    if (type === "reasoning") return;
    throw unsupported(
      `${path}.type`,
      `\`${path}.type\`: input items of type "${String(type).slice(0, 64)}" are not supported by this server (message, function_call, function_call_output, reasoning)`,
    );
  });
  return messages;
}

function toolDefinitions(tools: readonly unknown[]): ToolDefinition[] {
  return tools.map((tool, index) => {
    const type =
      typeof tool === "object" && tool !== null ? (tool as { type?: unknown }).type : undefined;
    if (type !== "function")
      throw unsupported(
        `tools.${index}.type`,
        `\`tools.${index}\`: tools of type "${String(type).slice(0, 64)}" are not supported by this server; only "function" tools are`,
      );
    const parsed = parseAt(functionToolSchema, tool, `tools.${index}`);
    const definition: ToolDefinition = { type: "function", function: { name: parsed.name } };
    if (parsed.description != null) definition.function.description = parsed.description;
    if (parsed.parameters != null) definition.function.parameters = parsed.parameters;
    if (parsed.strict != null) definition.function.strict = parsed.strict;
    return definition;
  });
}

function toolChoice(value: unknown): ToolChoice {
  if (value === "none" || value === "auto" || value === "required") return value;
  if (typeof value === "object" && value !== null) {
    const choice = value as { type?: unknown; name?: unknown };
    if (choice.type === "function" && typeof choice.name === "string" && choice.name !== "")
      return { type: "function", function: { name: choice.name } };
  }
  throw unsupported(
    "tool_choice",
    '`tool_choice`: only "none", "auto", "required" or { "type": "function", "name": … } are supported by this server',
  );
}

function responseFormat(
  format: NonNullable<NonNullable<ResponsesRequest["text"]>["format"]>,
): ResponseFormat {
  if (format.type !== "json_schema") return { type: format.type };
  const schema: Extract<ResponseFormat, { type: "json_schema" }>["json_schema"] = {
    name: format.name,
    schema: format.schema,
  };
  if (format.description != null) schema.description = format.description;
  if (format.strict != null) schema.strict = format.strict;
  return { type: "json_schema", json_schema: schema };
}

/** A request's `ProviderOptions`: what reaches the provider (never an address, a proxy or a key). */
export function responsesOptions(request: ResponsesRequest): ProviderOptions {
  const options: ProviderOptions = {};
  if (request.temperature != null) options.temperature = request.temperature;
  if (request.top_p != null) options.topP = request.top_p;
  if (request.max_output_tokens != null) options.maxCompletionTokens = request.max_output_tokens;
  if (request.reasoning?.effort != null) options.reasoningEffort = request.reasoning.effort;
  if (request.user != null) options.user = request.user;
  if (request.service_tier != null) options.serviceTier = request.service_tier;
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    options.tools = toolDefinitions(tools);
    if (request.parallel_tool_calls != null)
      options.parallelToolCalls = request.parallel_tool_calls;
  }
  if (request.tool_choice != null) {
    const choice = toolChoice(request.tool_choice);
    // "none" and "auto" without tools ask for nothing; any other choice needs the tools it names.
    if (tools.length > 0) options.toolChoice = choice;
    else if (choice !== "none" && choice !== "auto")
      throw invalidField("tool_choice", "`tool_choice` asks for a tool call, but `tools` is empty");
  }
  const format = request.text?.format;
  if (format != null && format.type !== "text") options.responseFormat = responseFormat(format);
  // Chat Completions fields of the same name and meaning, forwarded verbatim.
  const extraBody: Record<string, unknown> = {};
  if (request.text?.verbosity != null) extraBody.verbosity = request.text.verbosity;
  if (request.safety_identifier != null) extraBody.safety_identifier = request.safety_identifier;
  if (request.prompt_cache_key != null) extraBody.prompt_cache_key = request.prompt_cache_key;
  if (request.prompt_cache_retention != null)
    extraBody.prompt_cache_retention = request.prompt_cache_retention;
  if (Object.keys(extraBody).length > 0) options.extraBody = extraBody;
  return options;
}

/**
 * The whole conversation a request sends: its `instructions` as the system message
 * (never carried over from a previous response, as in OpenAI's API), then `history`:
 * the previous response's conversation and this request's input.
 */
export function conversationOf(request: ResponsesRequest, history: Messages): Messages {
  if (request.instructions == null || request.instructions === "") return history;
  return [{ role: "system", content: request.instructions }, ...history];
}
