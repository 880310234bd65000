import {
  type Chunk,
  FinishReason,
  ImageResponse,
  Reasoning,
  ResponseTooLargeError,
  Usage,
} from "@g4f-ts/provider-core";
import { chunkText, TextAccumulator } from "@g4f-ts/provider-core/internal";

/** A whole answer, gathered from its chunks. */
export interface GatheredAnswer {
  /** The text, with images written in as g4f writes them (`[![alt](url)](url)`). */
  content: string;
  reasoning: string;
  images: string[];
  finishReason: string | undefined;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number } | undefined;
}

/** The config field that caps an answer sent in one piece, named in its error. */
export const answerLimitName = "server.answerLimitBytes";

/** The default of `server.answerLimitBytes`: 32 MiB. */
export const defaultAnswerLimitBytes = 32 * 1024 * 1024;

// What keeping a chunk other than text costs, beyond its own text (an object, a slot).
const chunkOverheadBytes = 64;

/**
 * Gathers an answer chunk by chunk for a JSON client, up to `limitBytes` (UTF-8
 * bytes of its text, reasoning and image URLs, plus a little per other chunk):
 * past it, `add` throws a `ResponseTooLargeError` naming `server.answerLimitBytes`
 * and the collector is done with. Text is kept as joined blocks, not one string
 * grown by `+=`, so a million one-character chunks cost about a megabyte, not 32.
 * Only the latest finish reason and usage are kept, as a client sees them.
 */
export class AnswerCollector {
  /** Bytes counted so far against the limit. */
  bytes = 0;
  readonly #text = new TextAccumulator();
  readonly #reasoning = new TextAccumulator();
  readonly #images: string[] = [];
  #finishReason: string | undefined;
  #usage: GatheredAnswer["usage"];

  constructor(
    readonly provider: string,
    readonly limitBytes: number,
  ) {}

  add(chunk: Chunk): void {
    if (typeof chunk === "string") {
      if (chunk === "") return;
      this.#count(Buffer.byteLength(chunk));
      this.#text.append(chunk);
      return;
    }
    if (ImageResponse.isInstance(chunk)) {
      const text = chunkText(chunk);
      this.#count(chunkOverheadBytes + Buffer.byteLength(text));
      this.#images.push(...chunk.images);
      this.#text.append(text);
    } else if (Reasoning.isInstance(chunk)) {
      this.#count(chunkOverheadBytes + Buffer.byteLength(chunk.text));
      this.#reasoning.append(chunk.text);
    } else if (FinishReason.isInstance(chunk)) {
      this.#finishReason = chunk.reason;
    } else if (Usage.isInstance(chunk)) {
      this.#usage = chunk;
    }
  }

  /** The answer gathered so far. */
  answer(): GatheredAnswer {
    return {
      content: this.#text.toString(),
      reasoning: this.#reasoning.toString(),
      images: this.#images,
      finishReason: this.#finishReason,
      usage: this.#usage,
    };
  }

  #count(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes <= this.limitBytes) return;
    throw new ResponseTooLargeError({
      provider: this.provider,
      limit: this.limitBytes,
      limitName: answerLimitName,
      message: `The answer of ${this.provider} passed the limit of ${this.limitBytes} bytes (${answerLimitName}) for an answer sent as one JSON body; ask with "stream": true to receive longer answers`,
    });
  }
}
