/*
 * Messages in OpenAI's Chat Completions shapes, field for field (snake_case on the
 * wire names, as OpenAI and g4f write them), so that a provider speaking that wire
 * forwards them unchanged and one that does not maps them once.
 */

/** A text part. */
export interface TextContentPart {
  type: "text";
  text: string;
}

/** An image by URL: http(s) or a `data:` URL. */
export interface ImageContentPart {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}

/** Audio given inline, base64-encoded (`format` is `wav`, `mp3`, …). */
export interface AudioContentPart {
  type: "input_audio";
  input_audio: { data: string; format: string };
}

/** A file given inline (`file_data`, a data URL or base64) or by an id the upstream knows. */
export interface FileContentPart {
  type: "file";
  file: { file_data?: string; file_id?: string; filename?: string };
}

/** A refusal the assistant gave earlier, as part of an assistant message's content. */
export interface RefusalContentPart {
  type: "refusal";
  refusal: string;
}

/** A part of a multi-part user message. */
export type MessageContentPart =
  | TextContentPart
  | ImageContentPart
  | AudioContentPart
  | FileContentPart;

/** The content of a user message: plain text, or a list of parts. */
export type MessageContent = string | MessageContentPart[];

/** A function the model may call, as OpenAI describes one: `parameters` is a JSON Schema. */
export interface FunctionDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  /** Ask the upstream to hold the arguments to the schema exactly. */
  strict?: boolean | null;
}

/** A tool of a call: today, as in OpenAI's API, a function. */
export interface ToolDefinition {
  type: "function";
  function: FunctionDefinition;
}

/** A tool call the assistant made: `arguments` is the JSON text the model wrote, unparsed. */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A system prompt. `developer` is OpenAI's newer name for it; a provider without the role sends `system`. */
export interface SystemMessage {
  role: "system" | "developer";
  content: string | TextContentPart[];
  name?: string;
}

export interface UserMessage {
  role: "user";
  content: MessageContent;
  name?: string;
}

/** An earlier answer: text, a refusal, tool calls, or several of these; content may be null. */
export interface AssistantMessage {
  role: "assistant";
  content?: string | (TextContentPart | RefusalContentPart)[] | null;
  name?: string;
  refusal?: string | null;
  tool_calls?: ToolCall[];
  /** The legacy single function call, before tools. */
  function_call?: { name: string; arguments: string } | null;
  /** Reasoning a provider returned with the answer (DeepSeek's and g4f's name). */
  reasoning_content?: string | null;
}

/** The result of a tool call, answering the call with `tool_call_id`. */
export interface ToolMessage {
  role: "tool";
  content: string | TextContentPart[];
  tool_call_id: string;
}

/** The legacy result of a function call (before tools). */
export interface FunctionMessage {
  role: "function";
  content: string | null;
  name: string;
}

/** One message of a conversation, in any of OpenAI's forms. */
export type Message =
  | SystemMessage
  | UserMessage
  | AssistantMessage
  | ToolMessage
  | FunctionMessage;

/** A conversation: the messages in order. */
export type Messages = Message[];

/** Every role a message may have. */
export type MessageRole = Message["role"];

/**
 * The text of a message's content: the string itself, or the text parts joined
 * with a newline (other parts carry no text and are left out; null is "").
 */
export function contentText(
  content: string | readonly { type: string; text?: string }[] | null | undefined,
): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  let text = "";
  for (const part of content) {
    if (part.type !== "text" || typeof part.text !== "string") continue;
    text = text === "" ? part.text : `${text}\n${part.text}`;
  }
  return text;
}

/** The text of the last message, or "" for an empty conversation (an image prompt, for instance). */
export function lastMessageText(messages: Messages): string {
  const last = messages.at(-1);
  return last === undefined ? "" : contentText(last.content);
}

/**
 * A conversation for an upstream that knows only `system`, `user` and `assistant`
 * with text or image content (g4f's reduction for such providers): `developer`
 * becomes `system`, a tool result becomes a user message naming its call, an
 * assistant's tool calls are written out as text after its content, a refusal is
 * its text.
 */
export function plainMessages(messages: Messages): {
  role: "system" | "user" | "assistant";
  content: string | (TextContentPart | ImageContentPart)[];
}[] {
  return messages.map((message) => {
    switch (message.role) {
      case "system":
      case "developer":
        return { role: "system", content: contentText(message.content) };
      case "user":
        return {
          role: "user",
          content:
            typeof message.content === "string"
              ? message.content
              : message.content.filter(
                  (part): part is TextContentPart | ImageContentPart =>
                    part.type === "text" || part.type === "image_url",
                ),
        };
      case "assistant": {
        const pieces: string[] = [];
        const text =
          typeof message.content === "string" || message.content == null
            ? contentText(message.content)
            : message.content
                .map((part) => (part.type === "text" ? part.text : part.refusal))
                .join("\n");
        if (text !== "") pieces.push(text);
        if (message.refusal) pieces.push(message.refusal);
        for (const call of message.tool_calls ?? [])
          pieces.push(`[called ${call.function.name}(${call.function.arguments}) as ${call.id}]`);
        if (message.function_call)
          pieces.push(`[called ${message.function_call.name}(${message.function_call.arguments})]`);
        return { role: "assistant", content: pieces.join("\n") };
      }
      case "tool":
        return {
          role: "user",
          content: `[result of ${message.tool_call_id}]\n${contentText(message.content)}`,
        };
      default:
        return {
          role: "user",
          content: `[result of ${message.name}]\n${message.content ?? ""}`,
        };
    }
  });
}
