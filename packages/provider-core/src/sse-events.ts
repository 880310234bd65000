import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { ZodType } from "zod";
import { InvalidResponseError } from "./provider-errors.js";
import { formatSchemaIssues } from "./schema-errors.js";
import { errorFromPayload } from "./status-errors.js";

export interface SseDecodeOptions<T> {
  /** The provider's label, named in errors. */
  provider: string;
  /** Validates each JSON event; a mismatch is an `InvalidResponseError` with the field's path. */
  schema: ZodType<T>;
  /** A `data:` line that is not JSON: skip it (default, as g4f does) or fail. */
  invalidJson?: "skip" | "fail";
  /** Secret values to scrub from error messages. */
  secrets?: readonly string[];
  /** The longest event the decoder buffers before failing (default 8 MiB). */
  maxEventBytes?: number;
}

/** Decoded events of one SSE body. `done` turns true once `data: [DONE]` arrived. */
export interface SseStream<T> extends AsyncIterable<T> {
  readonly done: boolean;
}

const doneSentinel = "[DONE]";
const trailingBytesAfterDone = 64 * 1024;

/**
 * Decode a Server-Sent Events body into validated JSON events, with
 * `eventsource-parser` doing the framing. Bytes may be split anywhere: mid-line,
 * mid multi-byte character (a streaming `TextDecoder` keeps the pieces), CRLF or LF.
 * Comment lines are ignored; multi-line `data:` fields are joined as the spec says.
 * `data: [DONE]` ends the stream. An error object (`data: {"error": …}`, or any
 * `event: error`) is thrown as the matching typed error, never skipped.
 */
export function decodeSseStream<T>(
  body: AsyncIterable<Uint8Array>,
  options: SseDecodeOptions<T>,
): SseStream<T> {
  const state = { done: false };
  const { provider, schema } = options;
  const failOnInvalidJson = options.invalidJson === "fail";

  function toValue(message: EventSourceMessage): T | undefined {
    const data = message.data;
    if (data === doneSentinel) {
      state.done = true;
      return undefined;
    }
    if (data === "") return undefined;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      if (message.event === "error")
        throw errorFromPayload(provider, { error: { message: data } }, options.secrets);
      if (failOnInvalidJson) {
        throw new InvalidResponseError({
          provider,
          message: `${provider} sent an SSE event that is not JSON: ${JSON.stringify(data.slice(0, 120))}`,
        });
      }
      return undefined;
    }
    if (
      message.event === "error" ||
      (typeof json === "object" && json !== null && "error" in json && json.error != null)
    ) {
      throw errorFromPayload(provider, json, options.secrets);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new InvalidResponseError({
        provider,
        message: `${provider} sent an SSE event of an unexpected shape: ${formatSchemaIssues(parsed.error)}`,
      });
    }
    return parsed.data;
  }

  async function* events(): AsyncGenerator<T> {
    const pending: EventSourceMessage[] = [];
    let overflow = false;
    const parser = createParser({
      onEvent: (message) => pending.push(message),
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") overflow = true;
      },
      maxBufferSize: options.maxEventBytes ?? 8 * 1024 * 1024,
    });
    const decoder = new TextDecoder("utf-8");
    const iterator = body[Symbol.asyncIterator]();
    try {
      let ended = false;
      while (!state.done && !ended) {
        const next = await iterator.next();
        if (next.done) {
          ended = true;
          // A last event without its blank line still counts: upstreams often end that way.
          parser.feed(`${decoder.decode()}\n\n`);
        } else {
          parser.feed(decoder.decode(next.value, { stream: true }));
        }
        if (overflow) {
          throw new InvalidResponseError({
            provider,
            message: `${provider} sent an SSE event larger than the decoder allows`,
          });
        }
        // Indexing instead of shift() keeps this loop linear in the events of a read.
        for (let index = 0; index < pending.length; index++) {
          const value = toValue(pending[index] as EventSourceMessage);
          if (state.done) break;
          if (value !== undefined) yield value;
        }
        pending.length = 0;
      }
      if (ended) return;
      // After [DONE] the body normally ends at once; reading that end (a little of it at
      // most) lets the connection go back to the pool instead of being destroyed.
      let trailing = 0;
      while (trailing < trailingBytesAfterDone) {
        const next = await iterator.next();
        if (next.done) break;
        trailing += next.value.byteLength;
      }
    } finally {
      // Stop reading (and release the socket) when the consumer leaves early.
      await iterator.return?.();
    }
  }

  return {
    get done() {
      return state.done;
    },
    [Symbol.asyncIterator]: events,
  };
}
