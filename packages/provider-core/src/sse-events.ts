import { StringDecoder } from "node:string_decoder";
import { createParser, type EventSourceMessage, type EventSourceParser } from "eventsource-parser";
import type { ZodType } from "zod";
import { readyPiece } from "./http-client.js";
import { InvalidResponseError, ResponseTooLargeError } from "./provider-errors.js";
import { formatSchemaIssues } from "./schema-errors.js";
import { redactSecrets } from "./secret-redaction.js";
import { errorFromPayload, upstreamSnippet } from "./status-errors.js";

export interface SseDecodeOptions<T> {
  /** The provider's label, named in errors. */
  provider: string;
  /** Validates each JSON event; a mismatch is an `InvalidResponseError` with the field's path. */
  schema: ZodType<T>;
  /**
   * A cheap check that a JSON event already has the schema's shape, for the common
   * events of a known wire: an event it passes is taken as it is, without the
   * schema's pass (its keys the schema does not name stay on it); any other event
   * goes through the schema. It must pass only what the schema accepts unchanged.
   */
  accepts?: (json: unknown) => json is T;
  /**
   * A reader's way past the parse for the events it recognises by their text (see
   * `OpenAIChatDeltaTemplate`): `read` gives the value of a plain event's data, or
   * undefined to have it parsed and checked as usual; `learn` is told of each event
   * that `accepts` passed, with its data. `read` must give only what the parse and
   * checks would have given.
   */
  shortcut?: SseShortcut<T>;
  /** A `data:` line that is not JSON: skip it (default, as g4f does) or fail. */
  invalidJson?: "skip" | "fail";
  /** Secret values to scrub from error messages. */
  secrets?: readonly string[];
  /**
   * The longest line or event the decoder buffers before failing with a
   * `ResponseTooLargeError` (default 8 MiB; counted in characters): an upstream
   * that never ends a line can not make it grow without bound.
   */
  maxEventBytes?: number;
}

/** See `SseDecodeOptions.shortcut`. */
export interface SseShortcut<T> {
  read(data: string): T | undefined;
  learn(data: string, value: T): void;
}

/** Decoded events of one SSE body. `done` turns true once `data: [DONE]` arrived. */
export interface SseStream<T> extends AsyncIterable<T> {
  readonly done: boolean;
}

const doneSentinel = "[DONE]";
const defaultMaxEventBytes = 8 * 1024 * 1024;
const trailingBytesAfterDone = 64 * 1024;

/**
 * The synchronous core of SSE decoding: bytes in, validated JSON events out, with
 * `eventsource-parser` doing the framing. A reader that already loops over a body
 * calls `push` per piece and handles the events in the same turn, so decoding adds
 * no async step of its own per event. Bytes may be split anywhere: mid-line, mid
 * multi-byte character (a `StringDecoder` keeps the pieces), CRLF or LF.
 *
 * @example
 * const decoder = new SseEventDecoder({ provider: "Example", schema });
 * for await (const bytes of body) {
 *   for (const event of decoder.push(bytes)) handle(event);
 *   if (decoder.done) break;
 * }
 * for (const event of decoder.end()) handle(event);
 */
export class SseEventDecoder<T> {
  /** True once `data: [DONE]` arrived; events after it are dropped. */
  done = false;
  readonly #options: SseDecodeOptions<T>;
  readonly #failOnInvalidJson: boolean;
  // node's StringDecoder rather than a streaming TextDecoder: the same handling of
  // a character split across pieces and of bad bytes (U+FFFD), at a third of the
  // cost on a small piece and a tenth on a 16 KiB one. Made at the first piece that
  // does not end in an ASCII byte: until then each piece ends a character, and is
  // its own text (SSE pieces mostly end in a line break, and a short answer's body
  // never needs one).
  #decoder: StringDecoder | undefined;
  #started = false;
  readonly #parser: EventSourceParser;
  readonly #messages: EventSourceMessage[] = [];
  #overflow = false;
  #failure: unknown;

  constructor(options: SseDecodeOptions<T>) {
    this.#options = options;
    this.#failOnInvalidJson = options.invalidJson === "fail";
    this.#parser = createParser({
      onEvent: (message) => this.#messages.push(message),
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") this.#overflow = true;
      },
      maxBufferSize: options.maxEventBytes ?? defaultMaxEventBytes,
    });
  }

  /**
   * Decode one piece of the body; returns the events it completed (often none or
   * one). When an event fails (an error object, a bad shape) after others of the
   * same piece, those others come back first and the failure is thrown by the next
   * call of `check`, `push` or `end`: events keep their order around an error.
   */
  push(bytes: Uint8Array): T[] {
    this.check();
    if (this.done) return [];
    let text = this.#textOf(bytes);
    if (!this.#started && text !== "") {
      this.#started = true;
      // A byte order mark before the first field is not part of it (the SSE spec).
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.#parser.feed(text);
    return this.#drain();
  }

  /** The body ended: a last event without its blank line still counts (upstreams often end that way). */
  end(): T[] {
    this.check();
    if (this.done) return [];
    this.#parser.feed(`${this.#decoder?.end() ?? ""}\n\n`);
    return this.#drain();
  }

  // The text of a piece: what the StringDecoder gives for it, which for a piece that
  // ends in an ASCII byte, with nothing held from the pieces before, is its UTF-8
  // text as it is (no character is cut at its end; bad bytes inside it become U+FFFD
  // either way).
  #textOf(bytes: Uint8Array): string {
    const last = bytes[bytes.length - 1];
    if (this.#decoder === undefined && last !== undefined && last < 0x80) {
      return Buffer.isBuffer(bytes)
        ? bytes.toString("utf8")
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    }
    this.#decoder ??= new StringDecoder("utf8");
    return this.#decoder.write(bytes);
  }

  /** Throw the failure held back behind the events of the last piece, if any. */
  check(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    this.done = true;
    throw failure;
  }

  #drain(): T[] {
    if (this.#overflow) {
      // The parser is spent after an overflow: nothing more is decoded.
      this.done = true;
      this.#messages.length = 0;
      const { provider } = this.#options;
      const limit = this.#options.maxEventBytes ?? defaultMaxEventBytes;
      throw new ResponseTooLargeError({
        provider,
        limit,
        limitName: "maxEventBytes",
        message: `${provider} sent an SSE line or event longer than the limit of ${limit} characters (maxEventBytes) without ending it`,
      });
    }
    const messages = this.#messages;
    if (messages.length === 0) return [];
    const values: T[] = [];
    try {
      for (const message of messages) {
        const value = this.#toValue(message);
        if (this.done) break;
        if (value !== undefined) values.push(value);
      }
    } catch (error) {
      if (values.length === 0) throw error;
      this.#failure = error;
    } finally {
      messages.length = 0;
    }
    return values;
  }

  #toValue(message: EventSourceMessage): T | undefined {
    const { provider, schema } = this.#options;
    const data = message.data;
    if (data === doneSentinel) {
      this.done = true;
      return undefined;
    }
    if (data === "") return undefined;
    const shortcut = this.#options.shortcut;
    if (shortcut !== undefined && message.event === undefined) {
      const value = shortcut.read(data);
      if (value !== undefined) return value;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      if (message.event === "error")
        throw errorFromPayload(provider, { error: { message: data } }, this.#options.secrets);
      if (this.#failOnInvalidJson) {
        throw new InvalidResponseError({
          provider,
          message: `${provider} sent an SSE event that is not JSON: ${JSON.stringify(upstreamSnippet(data, this.#options.secrets, 120))}`,
        });
      }
      return undefined;
    }
    if (
      message.event === "error" ||
      (typeof json === "object" && json !== null && "error" in json && json.error != null)
    ) {
      throw errorFromPayload(provider, json, this.#options.secrets);
    }
    if (this.#options.accepts?.(json) === true) {
      shortcut?.learn(data, json);
      return json;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new InvalidResponseError({
        provider,
        message: `${provider} sent an SSE event of an unexpected shape: ${redactSecrets(formatSchemaIssues(parsed.error), this.#options.secrets)}`,
      });
    }
    return parsed.data;
  }
}

/**
 * After [DONE] the body normally ends at once; reading that end (a little of it at
 * most) lets the connection go back to the pool instead of being destroyed. What
 * is already there is read at once (see `readyPiece`): undefined when that reached
 * the end or the limit, else the promise of the rest.
 */
export function drainAfterDone(iterator: AsyncIterator<Uint8Array>): Promise<void> | undefined {
  let trailing = 0;
  while (trailing < trailingBytesAfterDone) {
    const next = readyPiece(iterator);
    if (next === undefined) return drainRest(iterator, trailing);
    if (next.done) return undefined;
    trailing += next.value.byteLength;
  }
  return undefined;
}

async function drainRest(iterator: AsyncIterator<Uint8Array>, trailing: number): Promise<void> {
  let read = trailing;
  while (read < trailingBytesAfterDone) {
    const next = await iterator.next();
    if (next.done) break;
    read += next.value.byteLength;
  }
}

/**
 * Decode a Server-Sent Events body into validated JSON events (see
 * {@link SseEventDecoder}). Comment lines are ignored; multi-line `data:` fields
 * are joined as the spec says. `data: [DONE]` ends the stream. An error object
 * (`data: {"error": …}`, or any `event: error`) is thrown as the matching typed
 * error, never skipped.
 */
export function decodeSseStream<T>(
  body: AsyncIterable<Uint8Array>,
  options: SseDecodeOptions<T>,
): SseStream<T> {
  const decoder = new SseEventDecoder(options);

  async function* events(): AsyncGenerator<T> {
    const iterator = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await iterator.next();
        const values = next.done ? decoder.end() : decoder.push(next.value);
        for (const value of values) yield value;
        decoder.check();
        if (next.done) return;
        if (decoder.done) break;
      }
      await drainAfterDone(iterator);
    } finally {
      // Stop reading (and release the socket) when the consumer leaves early.
      await iterator.return?.();
    }
  }

  return {
    get done() {
      return decoder.done;
    },
    [Symbol.asyncIterator]: events,
  };
}
