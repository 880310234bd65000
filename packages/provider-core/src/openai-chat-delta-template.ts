import {
  isPlainOpenAIChatChunk,
  type OpenAIChatChunk,
  type OpenAIChatChunkMapper,
} from "./openai-chat-chunks.js";
import type { Chunk } from "./response-chunks.js";

/** A text delta read through an {@link OpenAIChatDeltaTemplate}: the event it repeats, and its own text. */
export class TemplatedTextDelta {
  constructor(
    /** The event this one repeats but for its text: what every other field holds. */
    readonly template: OpenAIChatChunk,
    readonly content: string,
  ) {}

  /** Its chunks, as `mapper.pushEvent` makes them of the event it stands for. */
  pushTo(mapper: OpenAIChatChunkMapper, chunks: Chunk[]): void {
    mapper.pushTemplatedText(this.template, this.content, chunks);
  }
}

// What a JSON string must escape: its text between the quotes can then not be taken as it is.
const needsEscape = /["\\\u0000-\u001f]/;
// A text that needs no escape, put in the slot to check that it is the delta's content.
const probe = "g4f-template-probe";
// Templates learnt that never matched an event, before the reader stops learning.
const maxUnusedTemplates = 3;

/**
 * The fast path of a long OpenAI stream: the JSON parse of each `data:` line was a
 * third of a long stream's CPU, and an upstream's text deltas are one text with
 * only the content changing (`{"id":"…","created":…,"choices":[{"index":0,
 * "delta":{"content":"…"},"finish_reason":null}]}`). Once a plain text delta has
 * been parsed, the text before its content (`prefix`) and after it (`suffix`) is
 * kept; a later event whose data is `prefix + text + suffix`, with a text that has
 * nothing JSON would have to escape (no quote, backslash or control character), is
 * that event again with `text` as its content: JSON's grammar gives it the same
 * value in every other field. Such an event skips the parse and its checks
 * (`accepts`, the schema, the error object), which its template passed.
 *
 * The slot is checked before it is used: the template's text with another content
 * put in the slot must parse to that content at `choices[0].delta.content`, so a
 * content that also appears elsewhere in the event (a model named like the text)
 * never picks the wrong place. Only events whose chunks are the content alone
 * become templates: one choice, index 0, no reasoning, refusal, finish reason,
 * usage, tool call or logprobs. Anything else is parsed as before, and an upstream
 * whose events differ in more than their text (a per-event field) stops being tried
 * after a few templates that never matched.
 */
export class OpenAIChatDeltaTemplate {
  #template: OpenAIChatChunk | undefined;
  #prefix = "";
  #suffix = "";
  #matched = false;
  #unused = 0;
  #offered = 0;

  /** The event of `data` when it is a text delta of the current template; undefined otherwise. */
  read(data: string): TemplatedTextDelta | undefined {
    const template = this.#template;
    if (template === undefined) return undefined;
    const prefix = this.#prefix;
    const suffix = this.#suffix;
    const contentEnd = data.length - suffix.length;
    // Slices compared with `===` rather than `startsWith`/`endsWith`: V8's are several
    // times slower on texts this long.
    if (
      contentEnd < prefix.length ||
      data.slice(0, prefix.length) !== prefix ||
      data.slice(contentEnd) !== suffix
    ) {
      return undefined;
    }
    const content = data.slice(prefix.length, contentEnd);
    if (needsEscape.test(content)) return undefined;
    this.#matched = true;
    return new TemplatedTextDelta(template, content);
  }

  /** Learn the template of an event that was parsed (and passed the plain check). */
  learn(data: string, event: OpenAIChatChunk): void {
    // A template that matches is kept through the odd other event (the first, the last).
    if (this.#matched || this.#unused >= maxUnusedTemplates) return;
    // Not from the first event: a short answer (one delta, then its end) would pay for
    // a template it never uses, and a stream's first delta often carries its role.
    if (++this.#offered === 1) return;
    const content = templateContent(event);
    if (content === undefined) return;
    const quoted = `"${content}"`;
    if (needsEscape.test(content)) return;
    for (let at = data.indexOf(quoted); at !== -1; at = data.indexOf(quoted, at + 1)) {
      const prefix = data.slice(0, at + 1);
      const suffix = data.slice(at + 1 + content.length);
      if (slotIsContent(prefix, suffix)) {
        if (this.#template !== undefined) this.#unused++;
        this.#template = event;
        this.#prefix = detached(prefix);
        this.#suffix = detached(suffix);
        return;
      }
    }
  }
}

/** The content of an event whose chunks are that content alone; undefined for any other event. */
function templateContent(event: OpenAIChatChunk): string | undefined {
  if (!isPlainOpenAIChatChunk(event)) return undefined;
  const choices = event.choices;
  if (choices == null || choices.length !== 1) return undefined;
  const choice = choices[0];
  const delta = choice?.delta;
  if (choice == null || delta == null || (choice.index ?? 0) !== 0) return undefined;
  if (choice.finish_reason || delta.reasoning_content || delta.reasoning || delta.refusal) {
    return undefined;
  }
  return typeof delta.content === "string" ? delta.content : undefined;
}

/**
 * A copy of `text` that holds none of the string it was cut from: V8 keeps a slice as
 * a view of its parent, here a whole piece of the body (up to 64 KiB), which the
 * template would otherwise keep alive for as long as the stream runs. Through JSON,
 * so that a lone surrogate is copied as it is.
 */
function detached(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

function slotIsContent(prefix: string, suffix: string): boolean {
  try {
    const value = JSON.parse(prefix + probe + suffix) as OpenAIChatChunk;
    return value?.choices?.[0]?.delta?.content === probe;
  } catch {
    return false;
  }
}
