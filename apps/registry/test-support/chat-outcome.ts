import { parseSseData } from "@g4f-ts/testkit";
import type { HttpReply } from "./http-exchange.js";

/**
 * What a client got from `/v1/chat/completions`: the whole answer, an explicit
 * error (an OpenAI error JSON with its status, or a stream that ends with an error
 * event), or something else, which is a failure of the registry: a stream that ends
 * without `[DONE]` and without an error event, a text that differs from the
 * upstream's, a body that is neither.
 */
export type ChatOutcome =
  | { kind: "complete"; streamed: boolean; provider: string }
  | { kind: "error"; streamed: boolean; status: number; code: string }
  | { kind: "failure"; why: string };

interface ErrorObject {
  message?: unknown;
  type?: unknown;
  code?: unknown;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorObjectOf(value: unknown): ErrorObject | undefined {
  if (typeof value !== "object" || value === null || !("error" in value)) return undefined;
  const error = (value as { error: unknown }).error;
  if (typeof error !== "object" || error === null) return undefined;
  const candidate = error as ErrorObject;
  return typeof candidate.message === "string" && typeof candidate.type === "string"
    ? candidate
    : undefined;
}

function classifyStream(reply: HttpReply, expectedText: string): ChatOutcome {
  if (reply.status !== 200) return { kind: "failure", why: `a stream with status ${reply.status}` };
  if (!reply.text.endsWith("\n\n"))
    return { kind: "failure", why: "a stream whose last event is unfinished" };
  let payloads = parseSseData(reply.text);
  // An error event is followed by [DONE], as g4f's API ends every stream.
  const beforeDone = payloads.at(-1) === "[DONE]" ? payloads.at(-2) : undefined;
  if (beforeDone !== undefined && errorObjectOf(parseJson(beforeDone)) !== undefined)
    payloads = payloads.slice(0, -1);
  const last = payloads.at(-1);
  const body = payloads.slice(0, -1);
  let text = "";
  let provider = "";
  for (const payload of body) {
    const chunk = parseJson(payload) as
      | { provider?: string; choices?: { delta?: { content?: string } }[] }
      | undefined;
    if (chunk === undefined || errorObjectOf(chunk) !== undefined || payload === "[DONE]")
      return {
        kind: "failure",
        why: `an unexpected event in the stream: ${payload.slice(0, 200)}`,
      };
    text += chunk.choices?.[0]?.delta?.content ?? "";
    provider = chunk.provider ?? provider;
  }
  if (last === "[DONE]") {
    if (text !== expectedText)
      return {
        kind: "failure",
        why: `a stream ended with [DONE] but its text was ${JSON.stringify(text)}`,
      };
    return { kind: "complete", streamed: true, provider };
  }
  const error = last === undefined ? undefined : errorObjectOf(parseJson(last));
  if (error === undefined)
    return {
      kind: "failure",
      why: `a stream ended without [DONE] or an error event: ${String(last).slice(0, 200)}`,
    };
  return { kind: "error", streamed: true, status: 200, code: String(error.code) };
}

function classifyJson(reply: HttpReply, expectedText: string): ChatOutcome {
  const body = parseJson(reply.text) as
    | { object?: string; provider?: string; choices?: { message?: { content?: string } }[] }
    | undefined;
  if (reply.status === 200) {
    const content = body?.choices?.[0]?.message?.content;
    if (body?.object !== "chat.completion" || content !== expectedText)
      return {
        kind: "failure",
        why: `a 200 answer that is not the whole completion: ${reply.text.slice(0, 200)}`,
      };
    return { kind: "complete", streamed: false, provider: body.provider ?? "" };
  }
  const error = errorObjectOf(body);
  if (reply.status < 400 || error === undefined)
    return { kind: "failure", why: `status ${reply.status} with ${reply.text.slice(0, 200)}` };
  return { kind: "error", streamed: false, status: reply.status, code: String(error.code) };
}

/** Classify one chat answer whose upstream text, when whole, is `expectedText`. */
export function classifyChatReply(reply: HttpReply, expectedText: string): ChatOutcome {
  const type = String(reply.headers["content-type"] ?? "");
  if (type.startsWith("text/event-stream")) return classifyStream(reply, expectedText);
  if (type.startsWith("application/json")) return classifyJson(reply, expectedText);
  return { kind: "failure", why: `an answer of content-type "${type}"` };
}
