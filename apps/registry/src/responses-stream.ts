import { randomBytes } from "node:crypto";
import {
  type Chunk,
  FinishReason,
  ImageResponse,
  Reasoning,
  Refusal,
  ResponseTooLargeError,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "@g4f-ts/provider-core";
import { chunkText } from "@g4f-ts/provider-core/internal";
import { answerLimitName } from "./answer-collector.js";
import { estimateTokens } from "./openai-wire.js";

/*
 * A provider's chunks as a Responses API answer: the output items (reasoning,
 * message with output_text / refusal parts, function_call) and, for a stream, the
 * typed events OpenAI sends, in its order, each with its `sequence_number`. One
 * assembler serves the JSON answer and the stream, so both hold the same items.
 */

/** A new id with OpenAI's prefix (`resp_`, `msg_`, `fc_`, `rs_`, `call_`). */
export function responseItemId(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString("hex")}`;
}

/** One event of a Responses stream, before its sequence number. */
export type ResponseEvent = { type: string } & Record<string, unknown>;

type OutputItem = Record<string, unknown> & { type: string; id: string };

interface OpenMessage {
  kind: "message";
  index: number;
  item: OutputItem;
  parts: Record<string, unknown>[];
  /** The part being written: its kind and text so far. */
  part: { kind: "output_text" | "refusal"; pieces: string[] } | undefined;
}

interface OpenReasoning {
  kind: "reasoning";
  index: number;
  item: OutputItem;
  pieces: string[];
}

interface OpenCall {
  kind: "function_call";
  index: number;
  item: OutputItem;
  /** The upstream's index of the call (a `ToolCallDelta`'s `index`). */
  callIndex: number;
  name: string;
  pieces: string[];
  /** Its done events were sent (a piece after them still goes into the item). */
  closed: boolean;
}

type OpenItem = OpenMessage | OpenReasoning;

/** The request's own fields a response object echoes. */
export type ResponseEcho = Record<string, unknown>;

// What keeping an item costs beyond its text, against the answer limit.
const itemOverheadBytes = 256;

/**
 * Builds one response from chunks. `add` returns the events a chunk makes (none
 * when `events` is off, for a JSON answer); `complete` closes the open item and
 * gives the final events and the response object. The answer is held (the last
 * event carries it whole, as OpenAI's does), up to `limitBytes`: past it, `add`
 * throws a `ResponseTooLargeError` naming `server.answerLimitBytes`.
 */
export class ResponseAssembler {
  readonly output: OutputItem[] = [];
  /** The message or reasoning item being written. */
  #open: OpenItem | undefined;
  readonly #calls = new Map<number, OpenCall>();
  /**
   * Function calls still being written: several at once, since some upstreams
   * interleave the pieces of parallel calls (each event names its output index).
   */
  #openCalls: OpenCall[] = [];
  #finishReason: string | undefined;
  #usage: Usage | undefined;
  #outputCharacters = 0;
  #bytes = 0;

  constructor(
    readonly base: {
      id: string;
      createdAt: number;
      model: string;
      provider: string;
      echo: ResponseEcho;
      /** Reasoning is also written as the item's summary (`reasoning.summary` was asked for). */
      reasoningSummary: boolean;
    },
    readonly events: boolean,
    readonly limitBytes: number,
  ) {}

  /** The response object with a status, and the output so far. */
  snapshot(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      id: this.base.id,
      object: "response",
      created_at: this.base.createdAt,
      status,
      background: false,
      error: null,
      incomplete_details: null,
      ...this.base.echo,
      model: this.base.model,
      output: this.output,
      usage: null,
      provider: this.base.provider,
      ...extra,
    };
  }

  /** The first two events of a stream: the response created, and in progress. */
  start(): ResponseEvent[] {
    const response = this.snapshot("in_progress");
    return [
      { type: "response.created", response },
      { type: "response.in_progress", response },
    ];
  }

  add(chunk: Chunk): ResponseEvent[] {
    const events: ResponseEvent[] = [];
    if (typeof chunk === "string" || ImageResponse.isInstance(chunk)) {
      const text = chunkText(chunk);
      if (text !== "") this.#messageText("output_text", text, events);
    } else if (Refusal.isInstance(chunk)) {
      if (chunk.text !== "") this.#messageText("refusal", chunk.text, events);
    } else if (Reasoning.isInstance(chunk)) {
      if (chunk.text !== "") this.#reasoningText(chunk.text, events);
    } else if (ToolCallDelta.isInstance(chunk)) {
      this.#callDelta(chunk, events);
    } else if (ToolCalls.isInstance(chunk)) {
      for (const call of chunk.calls) {
        const callIndex = this.#calls.size === 0 ? 0 : Math.max(...this.#calls.keys()) + 1;
        this.#callDelta(
          new ToolCallDelta({
            index: callIndex,
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          }),
          events,
        );
      }
    } else if (FinishReason.isInstance(chunk)) {
      this.#finishReason = chunk.reason;
    } else if (Usage.isInstance(chunk)) {
      this.#usage = chunk;
    }
    return this.events ? events : [];
  }

  /**
   * The answer ended well: the open item is closed, and the last event is
   * `response.completed`, or `response.incomplete` when the model stopped at the
   * token limit or a content filter.
   */
  complete(promptCharacters: number): {
    events: ResponseEvent[];
    response: Record<string, unknown>;
  } {
    const events: ResponseEvent[] = [];
    this.#close(events);
    const incomplete =
      this.#finishReason === "length"
        ? "max_output_tokens"
        : this.#finishReason === "content_filter"
          ? "content_filter"
          : undefined;
    const response = this.snapshot(incomplete === undefined ? "completed" : "incomplete", {
      incomplete_details: incomplete === undefined ? null : { reason: incomplete },
      usage: this.#usageObject(promptCharacters),
    });
    events.push({
      type: incomplete === undefined ? "response.completed" : "response.incomplete",
      response,
    });
    return { events: this.events ? events : [], response };
  }

  /** The answer broke after it had begun: `response.failed`, carrying the output so far. */
  fail(code: string, message: string): ResponseEvent[] {
    const response = this.snapshot("failed", { error: { code, message } });
    return [{ type: "response.failed", response }];
  }

  /** The assistant's turn as a chat message, for a later `previous_response_id`. */
  assistantMessage(): {
    role: "assistant";
    content: string | null;
    refusal?: string;
    tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
  } {
    let text = "";
    let refusal = "";
    const calls: { id: string; type: "function"; function: { name: string; arguments: string } }[] =
      [];
    for (const item of this.output) {
      if (item.type === "message") {
        for (const part of item.content as Record<string, unknown>[]) {
          if (part.type === "output_text") text += part.text as string;
          else if (part.type === "refusal") refusal += part.refusal as string;
        }
      } else if (item.type === "function_call") {
        calls.push({
          id: item.call_id as string,
          type: "function",
          function: { name: item.name as string, arguments: item.arguments as string },
        });
      }
    }
    const message: ReturnType<ResponseAssembler["assistantMessage"]> = {
      role: "assistant",
      content: text === "" && calls.length > 0 ? null : text,
    };
    if (refusal !== "") message.refusal = refusal;
    if (calls.length > 0) message.tool_calls = calls;
    return message;
  }

  #count(text: string, overhead = 0): void {
    this.#outputCharacters += text.length;
    this.#bytes += Buffer.byteLength(text) + overhead;
    if (this.#bytes <= this.limitBytes) return;
    throw new ResponseTooLargeError({
      provider: this.base.provider,
      limit: this.limitBytes,
      limitName: answerLimitName,
      message: `The answer of ${this.base.provider} passed the limit of ${this.limitBytes} bytes (${answerLimitName}) that a response held for its final event and store may reach`,
    });
  }

  #messageText(kind: "output_text" | "refusal", text: string, events: ResponseEvent[]): void {
    let open = this.#open;
    if (open?.kind !== "message") {
      this.#close(events);
      this.#count("", itemOverheadBytes);
      const item: OutputItem = {
        type: "message",
        id: responseItemId("msg"),
        status: "in_progress",
        role: "assistant",
        content: [],
      };
      open = { kind: "message", index: this.output.length, item, parts: [], part: undefined };
      this.output.push(item);
      this.#open = open;
      events.push({
        type: "response.output_item.added",
        output_index: open.index,
        item: { ...item, content: [] },
      });
    }
    this.#count(text);
    if (open.part?.kind !== kind) {
      this.#closePart(open, events);
      open.part = { kind, pieces: [] };
      const empty = kind === "output_text" ? emptyTextPart() : { type: "refusal", refusal: "" };
      open.parts.push(empty);
      events.push({
        type: "response.content_part.added",
        item_id: open.item.id,
        output_index: open.index,
        content_index: open.parts.length - 1,
        part: { ...empty },
      });
    }
    open.part.pieces.push(text);
    // Spelled out rather than spread from a position object: this runs once a delta.
    const contentIndex = open.parts.length - 1;
    events.push(
      kind === "output_text"
        ? {
            type: "response.output_text.delta",
            item_id: open.item.id,
            output_index: open.index,
            content_index: contentIndex,
            delta: text,
            logprobs: [],
          }
        : {
            type: "response.refusal.delta",
            item_id: open.item.id,
            output_index: open.index,
            content_index: contentIndex,
            delta: text,
          },
    );
  }

  #closePart(open: OpenMessage, events: ResponseEvent[]): void {
    const { part } = open;
    if (part === undefined) return;
    const text = part.pieces.join("");
    const contentIndex = open.parts.length - 1;
    const whole =
      part.kind === "output_text"
        ? { ...emptyTextPart(), text }
        : { type: "refusal", refusal: text };
    open.parts[contentIndex] = whole;
    const position = {
      item_id: open.item.id,
      output_index: open.index,
      content_index: contentIndex,
    };
    events.push(
      part.kind === "output_text"
        ? { type: "response.output_text.done", ...position, text, logprobs: [] }
        : { type: "response.refusal.done", ...position, refusal: text },
      { type: "response.content_part.done", ...position, part: whole },
    );
    open.part = undefined;
  }

  #reasoningText(text: string, events: ResponseEvent[]): void {
    let open = this.#open;
    if (open?.kind !== "reasoning") {
      this.#close(events);
      this.#count("", itemOverheadBytes);
      const item: OutputItem = {
        type: "reasoning",
        id: responseItemId("rs"),
        summary: [],
        content: [],
      };
      open = { kind: "reasoning", index: this.output.length, item, pieces: [] };
      this.output.push(item);
      this.#open = open;
      const position = { item_id: item.id, output_index: open.index, content_index: 0 };
      events.push(
        {
          type: "response.output_item.added",
          output_index: open.index,
          item: { ...item, content: [] },
        },
        {
          type: "response.content_part.added",
          ...position,
          part: { type: "reasoning_text", text: "" },
        },
      );
    }
    this.#count(text);
    open.pieces.push(text);
    events.push({
      type: "response.reasoning_text.delta",
      item_id: open.item.id,
      output_index: open.index,
      content_index: 0,
      delta: text,
    });
  }

  #callDelta(delta: ToolCallDelta, events: ResponseEvent[]): void {
    let call = this.#calls.get(delta.index);
    if (call === undefined) {
      this.#closeOpen(events);
      this.#count("", itemOverheadBytes);
      const item: OutputItem = {
        type: "function_call",
        id: responseItemId("fc"),
        call_id: delta.id ?? responseItemId("call"),
        name: delta.name ?? "",
        arguments: "",
        status: "in_progress",
      };
      call = {
        kind: "function_call",
        index: this.output.length,
        item,
        callIndex: delta.index,
        name: delta.name ?? "",
        pieces: [],
        closed: false,
      };
      this.#calls.set(delta.index, call);
      this.#openCalls.push(call);
      this.output.push(item);
      events.push({
        type: "response.output_item.added",
        output_index: call.index,
        item: { ...item },
      });
    } else if (delta.name !== undefined && delta.name !== call.name) {
      // A name streamed in pieces (rare): the pieces after the first add to it.
      call.name += delta.name;
      if (call.closed) call.item.name = call.name;
    }
    this.#count(delta.arguments + (delta.name ?? ""));
    if (delta.arguments === "") return;
    call.pieces.push(delta.arguments);
    // A piece of a call closed already (text came between its pieces) still belongs to it.
    if (call.closed) call.item.arguments = call.pieces.join("");
    events.push({
      type: "response.function_call_arguments.delta",
      item_id: call.item.id,
      output_index: call.index,
      delta: delta.arguments,
    });
  }

  /** Close every item being written: their `…done` events and `response.output_item.done`. */
  #close(events: ResponseEvent[]): void {
    this.#closeOpen(events);
    for (const call of this.#openCalls) {
      const { item } = call;
      const text = call.pieces.join("");
      item.arguments = text;
      item.name = call.name;
      item.status = "completed";
      call.closed = true;
      events.push(
        {
          type: "response.function_call_arguments.done",
          item_id: item.id,
          output_index: call.index,
          name: call.name,
          arguments: text,
        },
        { type: "response.output_item.done", output_index: call.index, item },
      );
    }
    this.#openCalls = [];
  }

  /** Close the message or reasoning item being written. */
  #closeOpen(events: ResponseEvent[]): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    const { item } = open;
    if (open.kind === "message") {
      this.#closePart(open, events);
      item.content = open.parts;
      item.status = "completed";
    } else {
      const text = open.pieces.join("");
      const part = { type: "reasoning_text", text };
      item.content = [part];
      if (this.base.reasoningSummary) item.summary = [{ type: "summary_text", text }];
      const position = { item_id: item.id, output_index: open.index, content_index: 0 };
      events.push(
        { type: "response.reasoning_text.done", ...position, text },
        { type: "response.content_part.done", ...position, part },
      );
    }
    events.push({ type: "response.output_item.done", output_index: open.index, item });
  }

  #usageObject(promptCharacters: number): Record<string, unknown> {
    const usage = this.#usage;
    if (usage === undefined || usage.estimated) {
      const input = estimateTokens(promptCharacters);
      const output = estimateTokens(this.#outputCharacters);
      return {
        input_tokens: input,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: output,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: input + output,
        estimated: true,
      };
    }
    return {
      input_tokens: usage.promptTokens,
      input_tokens_details: { cached_tokens: 0, ...usage.promptTokensDetails },
      output_tokens: usage.completionTokens,
      output_tokens_details: { reasoning_tokens: 0, ...usage.completionTokensDetails },
      total_tokens: usage.totalTokens,
    };
  }
}

function emptyTextPart(): Record<string, unknown> {
  return { type: "output_text", text: "", annotations: [], logprobs: [] };
}

/**
 * One event as SSE, with its sequence number: `event: <type>` and its JSON, as
 * OpenAI writes them. The JSON is `{ ...event, sequence_number }`'s, written
 * without that copy of every event (a spread of an object of varying shape takes
 * V8's slow path): the number goes last, before the object's closing brace (an
 * event has a `type`, so the object is never empty, and never has the key itself).
 */
export function responseEventText(event: ResponseEvent, sequenceNumber: number): string {
  const json = JSON.stringify(event);
  return `event: ${event.type}\ndata: ${json.slice(0, -1)},"sequence_number":${sequenceNumber}}\n\n`;
}

/**
 * The event of type `type` that carries the response whole (`response.completed`,
 * `response.incomplete`), from the response's JSON text: what `responseEventText`
 * writes for `{ type, response }`, without stringifying the response once more for
 * the store beside it.
 */
export function responseObjectEventText(
  type: string,
  responseJson: string,
  sequenceNumber: number,
): string {
  return `event: ${type}\ndata: {"type":${JSON.stringify(type)},"response":${responseJson},"sequence_number":${sequenceNumber}}\n\n`;
}
