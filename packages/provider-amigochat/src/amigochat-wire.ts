import type { plainMessages } from "@g4f-ts/provider-core";
import { z } from "zod";

/** The site, used as `origin` and (plus "/") as `referer`, as the browser client sends them. */
export const amigoChatSiteUrl = "https://amigochat.io/chat/";

/** The real API origin. The service has long been unreachable; see `AmigoChat.working`. */
export const amigoChatDefaultBaseUrl = "https://api.amigochat.io";

export const amigoChatChatPath = "/v1/chat/completions";
export const amigoChatImagePath = "/v1/images/generations";

/** The version of the web client the device headers claim (earlier clients sent 1.0.32). */
export const amigoChatClientVersion = "1.0.45";

const userAgent =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36";

/**
 * The headers of the browser client, with a device uuid that the caller makes fresh
 * for every attempt. `authorization` is the word `Bearer` alone: the web client sends
 * no token. The referer keeps the reference's double slash (`…/chat//`).
 */
export function amigoChatHeaders(deviceUuid: string): Record<string, string> {
  return {
    accept: "*/*",
    "accept-language": "en-US,en;q=0.9",
    authorization: "Bearer",
    "cache-control": "no-cache",
    "content-type": "application/json",
    origin: amigoChatSiteUrl,
    pragma: "no-cache",
    priority: "u=1, i",
    referer: `${amigoChatSiteUrl}/`,
    "sec-ch-ua": '"Chromium";v="129", "Not=A?Brand";v="8"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Linux"',
    "user-agent": userAgent,
    "x-device-language": "en-US",
    "x-device-platform": "web",
    "x-device-uuid": deviceUuid,
    "x-device-version": amigoChatClientVersion,
  };
}

/** The chat request body as it goes on the wire (snake_case sampling fields, camelCase ids). */
export interface AmigoChatChatBody {
  chatId: string;
  frequency_penalty: number;
  max_tokens: number;
  messages: ReturnType<typeof plainMessages>;
  model: string;
  personaId: string;
  presence_penalty: number;
  stream: boolean;
  temperature: number;
  top_p: number;
}

/** What names a chat request: its ids, its model and persona, its conversation. */
export interface AmigoChatChatIds {
  chatId: string;
  model: string;
  personaId: string;
  /** System, user and assistant messages with text (and image) content, as `plainMessages` makes them. */
  messages: ReturnType<typeof plainMessages>;
}

/** A chat request's settings, each set (see `withAmigoChatDefaults`). */
export interface AmigoChatChatSettings {
  stream: boolean;
  frequencyPenalty: number;
  maxTokens: number;
  presencePenalty: number;
  temperature: number;
  topP: number;
}

/**
 * True when the conversation is already what AmigoChat is sent: every message
 * exactly `{ role, content }` in that order, a system, user or assistant role, and
 * a string content (or a user's text and image parts). `plainMessages` and the
 * `{ role, content }` mapping of `amigoChatChatBody` hand such a conversation on
 * unchanged, so the body may keep the caller's array (and with it the client's own
 * JSON text of it, see `jsonBodyWithClientMessages`). One look at each message's
 * keys, never at the text.
 */
export function amigoChatSendsAsGiven(
  messages: readonly { role: string; content?: unknown }[],
): messages is ReturnType<typeof plainMessages> {
  return sendsAsGiven(messages);
}

function sendsAsGiven(messages: readonly { role: string; content?: unknown }[]): boolean {
  for (const message of messages) {
    const { role, content } = message;
    if (role !== "system" && role !== "user" && role !== "assistant") return false;
    const fields = Object.keys(message);
    if (fields.length !== 2 || fields[0] !== "role" || fields[1] !== "content") return false;
    if (typeof content === "string") continue;
    if (role !== "user" || !Array.isArray(content)) return false;
    for (const part of content as { type?: unknown }[])
      if (part.type !== "text" && part.type !== "image_url") return false;
  }
  return true;
}

/**
 * Build the chat body from its ids and its settings (two objects the provider has,
 * rather than one spread together per call); messages are sent as `{ role, content }` only (a
 * conversation that is already so is kept as the same array).
 */
export function amigoChatChatBody(
  ids: AmigoChatChatIds,
  settings: AmigoChatChatSettings,
): AmigoChatChatBody {
  const { messages } = ids;
  return {
    chatId: ids.chatId,
    frequency_penalty: settings.frequencyPenalty,
    max_tokens: settings.maxTokens,
    // (Not narrowed by the check: messages with other keys, from a JavaScript caller, are mapped.)
    messages: sendsAsGiven(messages)
      ? messages
      : messages.map(({ role, content }) => ({ role, content })),
    model: ids.model,
    personaId: ids.personaId,
    presence_penalty: settings.presencePenalty,
    stream: settings.stream,
    temperature: settings.temperature,
    top_p: settings.topP,
  };
}

/** The image request body as it goes on the wire. */
export interface AmigoChatImageBody {
  prompt: string;
  model: string;
  personaId: string;
}

export function amigoChatImageBody(parameters: AmigoChatImageBody): AmigoChatImageBody {
  return { prompt: parameters.prompt, model: parameters.model, personaId: parameters.personaId };
}

/**
 * The image answer: `{ data: [{ url }, …] }`. Read tolerantly: other fields are
 * ignored, `data` may be missing and an item may lack its `url` (the reference
 * skips such items), and an `error` object in a 200 answer is kept so that it can
 * become a typed error.
 */
export const amigoChatImageAnswerSchema = z.object({
  data: z.array(z.object({ url: z.string().nullish() }).nullable()).nullish(),
  error: z.unknown().optional(),
});

export type AmigoChatImageAnswer = z.infer<typeof amigoChatImageAnswerSchema>;

/** The image URLs of an answer, in order; items without a `url` are skipped, as the reference does. */
export function amigoChatImageUrls(answer: AmigoChatImageAnswer): string[] {
  const urls: string[] = [];
  for (const item of answer.data ?? []) if (item?.url) urls.push(item.url);
  return urls;
}
