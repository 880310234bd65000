/** A part of a multi-part message: text, or an image by URL (http(s) or a data URL). */
export type MessageContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: "auto" | "low" | "high" } };

/** The content of a message: plain text, or a list of text and image parts. */
export type MessageContent = string | MessageContentPart[];

/** One message of a conversation, as g4f and the OpenAI API name them. */
export interface Message {
  role: "system" | "user" | "assistant";
  content: MessageContent;
}

/** A conversation: the messages in order. */
export type Messages = Message[];

/**
 * The text of a message's content: the string itself, or the text parts joined
 * with a newline (image parts carry no text and are left out).
 */
export function contentText(content: MessageContent): string {
  if (typeof content === "string") return content;
  let text = "";
  for (const part of content) {
    if (part.type !== "text") continue;
    text = text === "" ? part.text : `${text}\n${part.text}`;
  }
  return text;
}

/** The text of the last message, or "" for an empty conversation (an image prompt, for instance). */
export function lastMessageText(messages: Messages): string {
  const last = messages.at(-1);
  return last === undefined ? "" : contentText(last.content);
}
