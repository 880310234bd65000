import {
  ChoiceChunk,
  type Chunk,
  FinishReason,
  ImageResponse,
  Logprobs,
  Reasoning,
  Refusal,
  ResponseMetadata,
  ResponseTooLargeError,
  type ToolCall,
  ToolCallAssembler,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "@g4f-ts/provider-core";
import { chunkText, TextAccumulator } from "@g4f-ts/provider-core/internal";

/** Log probabilities of one choice, joined as OpenAI's JSON answer gives them. */
export interface GatheredLogprobs {
  content: Readonly<Record<string, unknown>>[] | null;
  refusal: Readonly<Record<string, unknown>>[] | null;
}

/** One choice of an answer (one of `n`), gathered from its chunks. */
export interface GatheredChoice {
  readonly index: number;
  /** The text, with images written in as g4f writes them (`[![alt](url)](url)`). */
  content: string;
  reasoning: string;
  /** The refusal, joined ("" when the model did not refuse). */
  refusal: string;
  /** The tool calls, whole (streamed pieces joined by index). */
  toolCalls: ToolCall[];
  logprobs: GatheredLogprobs | undefined;
  finishReason: string | undefined;
}

/** A whole answer, gathered from its chunks. */
export interface GatheredAnswer {
  /** Choice 0's text (images written in). */
  content: string;
  /** Choice 0's reasoning. */
  reasoning: string;
  images: string[];
  /** The first revised prompt an image response carried (`options.revisedPrompt`). */
  revisedPrompt: string | undefined;
  /** Choice 0's finish reason. */
  finishReason: string | undefined;
  /** The usage as the provider reported it (details and `estimated` included), if it did. */
  usage: Usage | undefined;
  /** The upstream's `system_fingerprint`, service tier, …, when it sent them. */
  metadata: ResponseMetadata | undefined;
  /** Every choice, by index (one unless the call asked for `n` > 1). */
  choices: GatheredChoice[];
}

/** The config field that caps an answer sent in one piece, named in its error. */
export const answerLimitName = "server.answerLimitBytes";

/** The default of `server.answerLimitBytes`: 32 MiB. */
export const defaultAnswerLimitBytes = 32 * 1024 * 1024;

// What keeping a chunk other than text costs, beyond its own text (an object, a slot).
const chunkOverheadBytes = 64;

/** The most choices an answer keeps apart (OpenAI's own limit of `n` is 128). */
const maxChoices = 128;

/**
 * One choice's parts, each made at its first piece: most answers are text alone,
 * often one piece of it (a whole answer of an upstream that does not stream), and
 * an accumulator and a tool-call table for each part cost more than that text.
 */
class ChoiceGatherer {
  /** The text while it is one piece; `#text` holds it (and the rest) from the second on. */
  #soleText = "";
  #text: TextAccumulator | undefined;
  #reasoning: TextAccumulator | undefined;
  #refusal: TextAccumulator | undefined;
  #toolCalls: ToolCallAssembler | undefined;
  logprobs: GatheredLogprobs | undefined;
  finishReason: string | undefined;

  constructor(readonly index: number) {}

  /** Append a non-empty piece of text. */
  appendText(piece: string): void {
    if (this.#text !== undefined) this.#text.append(piece);
    else if (this.#soleText === "") this.#soleText = piece;
    else {
      this.#text = new TextAccumulator();
      this.#text.append(this.#soleText);
      this.#text.append(piece);
    }
  }

  appendReasoning(piece: string): void {
    this.#reasoning ??= new TextAccumulator();
    this.#reasoning.append(piece);
  }

  appendRefusal(piece: string): void {
    this.#refusal ??= new TextAccumulator();
    this.#refusal.append(piece);
  }

  /** Take a tool-call chunk (a `ToolCallDelta` or `ToolCalls`); false for any other chunk. */
  addToolCall(chunk: Chunk): boolean {
    if (!ToolCallDelta.isInstance(chunk) && !ToolCalls.isInstance(chunk)) return false;
    this.#toolCalls ??= new ToolCallAssembler();
    return this.#toolCalls.add(chunk);
  }

  choice(): GatheredChoice {
    return {
      index: this.index,
      content: this.#text === undefined ? this.#soleText : this.#text.toString(),
      reasoning: this.#reasoning?.toString() ?? "",
      refusal: this.#refusal?.toString() ?? "",
      toolCalls: this.#toolCalls?.toolCalls() ?? [],
      logprobs: this.logprobs,
      finishReason: this.finishReason,
    };
  }
}

/**
 * Gathers an answer chunk by chunk for a JSON client, up to `limitBytes` (UTF-8
 * bytes of its text, reasoning, refusal, tool calls, log probabilities and image
 * URLs, plus a little per other chunk): past it, `add` throws a
 * `ResponseTooLargeError` naming `server.answerLimitBytes` and the collector is done
 * with. Text is kept as joined blocks, not one string grown by `+=`, so a million
 * one-character chunks cost about a megabyte, not 32. Choices other than 0 come as
 * `ChoiceChunk`s and are gathered apart. Only the latest finish reason (per
 * choice), usage and metadata are kept, as a client sees them.
 *
 * It is the registry's rather than the core's `completionOf` because it counts
 * bytes against the server's limit as it goes and keeps the `n` choices apart.
 */
export class AnswerCollector {
  /** Bytes counted so far against the limit. */
  bytes = 0;
  // Choice 0 is always there: the answer of a call with one choice, and where extra ones fold.
  readonly #first = new ChoiceGatherer(0);
  /** The choices other than 0 (`n` > 1), by index, once one came. */
  #others: Map<number, ChoiceGatherer> | undefined;
  #images: string[] | undefined;
  #revisedPrompt: string | undefined;
  #usage: Usage | undefined;
  #metadata: ResponseMetadata | undefined;

  constructor(
    readonly provider: string,
    readonly limitBytes: number,
  ) {}

  add(chunk: Chunk): void {
    if (ChoiceChunk.isInstance(chunk)) this.#addToChoice(this.#choice(chunk.index), chunk.chunk);
    else this.#addToChoice(this.#first, chunk);
  }

  /** The whole answer, once the attempt ended (what `gatherWholeAnswer` asks of its gatherer). */
  finish(): GatheredAnswer {
    return this.answer();
  }

  /** The answer gathered so far. */
  answer(): GatheredAnswer {
    const choices = [this.#first.choice()];
    if (this.#others !== undefined) {
      for (const other of this.#others.values()) choices.push(other.choice());
      choices.sort((left, right) => left.index - right.index);
    }
    const first = choices[0] as GatheredChoice;
    return {
      content: first.content,
      reasoning: first.reasoning,
      images: this.#images ?? [],
      revisedPrompt: this.#revisedPrompt,
      finishReason: first.finishReason,
      usage: this.#usage,
      metadata: this.#metadata,
      choices,
    };
  }

  #choice(index: number): ChoiceGatherer {
    if (index === 0) return this.#first;
    this.#others ??= new Map();
    let choice = this.#others.get(index);
    if (choice === undefined) {
      // Choice 0 counts towards the limit: past it, new indexes fold into choice 0.
      if (this.#others.size + 1 >= maxChoices) return this.#first;
      choice = new ChoiceGatherer(index);
      this.#others.set(index, choice);
    }
    return choice;
  }

  #addToChoice(choice: ChoiceGatherer, chunk: Chunk): void {
    if (typeof chunk === "string") {
      if (chunk === "") return;
      this.#count(Buffer.byteLength(chunk));
      choice.appendText(chunk);
      return;
    }
    if (ImageResponse.isInstance(chunk)) {
      const text = chunkText(chunk);
      this.#count(chunkOverheadBytes + Buffer.byteLength(text));
      this.#images ??= [];
      this.#images.push(...chunk.images);
      const revised = chunk.options.revisedPrompt;
      if (typeof revised === "string") this.#revisedPrompt ??= revised;
      if (text !== "") choice.appendText(text);
    } else if (Reasoning.isInstance(chunk)) {
      this.#count(chunkOverheadBytes + Buffer.byteLength(chunk.text));
      if (chunk.text !== "") choice.appendReasoning(chunk.text);
    } else if (Refusal.isInstance(chunk)) {
      this.#count(chunkOverheadBytes + Buffer.byteLength(chunk.text));
      if (chunk.text !== "") choice.appendRefusal(chunk.text);
    } else if (choice.addToolCall(chunk)) {
      this.#count(chunkOverheadBytes + toolCallBytes(chunk));
    } else if (Logprobs.isInstance(chunk)) {
      this.#count(
        chunkOverheadBytes + Buffer.byteLength(JSON.stringify([chunk.content, chunk.refusal])),
      );
      choice.logprobs = joinLogprobs(choice.logprobs, chunk);
    } else if (FinishReason.isInstance(chunk)) {
      choice.finishReason = chunk.reason;
    } else if (Usage.isInstance(chunk)) {
      this.#usage = chunk;
    } else if (ResponseMetadata.isInstance(chunk)) {
      this.#metadata = chunk;
    }
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

function toolCallBytes(chunk: Chunk): number {
  const {
    name,
    arguments: text,
    calls,
  } = chunk as {
    name?: string;
    arguments?: string;
    calls?: readonly ToolCall[];
  };
  if (calls !== undefined) {
    let bytes = 0;
    for (const call of calls)
      bytes += Buffer.byteLength(call.function.name) + Buffer.byteLength(call.function.arguments);
    return bytes;
  }
  return Buffer.byteLength(name ?? "") + Buffer.byteLength(text ?? "");
}

// Appends in place: joining copies would cost the square of a long answer's tokens.
function joinLogprobs(kept: GatheredLogprobs | undefined, chunk: Logprobs): GatheredLogprobs {
  const joined = kept ?? { content: null, refusal: null };
  if (chunk.content !== null) {
    joined.content ??= [];
    joined.content.push(...chunk.content);
  }
  if (chunk.refusal !== null) {
    joined.refusal ??= [];
    joined.refusal.push(...chunk.refusal);
  }
  return joined;
}
