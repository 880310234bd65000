import { describe, expect, it } from "vitest";
import {
  isPlainOpenAIChatChunk,
  isPlainOpenAIChatCompletion,
  OpenAIChatChunkMapper,
  openAIChatChunkSchema,
  openAIChatCompletionSchema,
} from "./openai-chat-chunks.js";
import type { Chunk } from "./response-chunks.js";

const base = {
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4o-mini",
};
const choice = (fields: Record<string, unknown>) => ({ ...base, choices: [fields] });

// Events the check passes: the schema must accept each, and the mapper must make the
// same chunks from the event as it is as from the schema's output.
const plain: unknown[] = [
  choice({ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }),
  choice({ index: 0, delta: { content: "Hello" }, finish_reason: null, logprobs: null }),
  choice({ index: 0, delta: { reasoning_content: "thinking" } }),
  choice({ index: 0, delta: { reasoning: "thinking", content: null } }),
  choice({ index: 0, delta: { refusal: "no" } }),
  choice({ index: 0, delta: {}, finish_reason: "stop" }),
  choice({ index: 3, delta: { content: "third" } }),
  choice({ text: "legacy text" }),
  choice({ delta: null, text: "text" }),
  { ...base, choices: [] },
  { ...base, choices: null, usage: null },
  { id: "", model: "", system_fingerprint: "fp", service_tier: "default", choices: [] },
  { choices: [{ index: 0, delta: { content: "x", extra: { any: 1 } }, extra: [1] }], extra: 2 },
  { ...base, choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
  { ...base, usage: { prompt_tokens: 1, completion_tokens: null } },
  { ...base, usage: {} },
];

// Events the check leaves to the schema: the rare kinds and every wrong type.
const leftToSchema: unknown[] = [
  null,
  [],
  "text",
  { ...base, usage: { prompt_tokens: 1, total_tokens: 3, prompt_tokens_details: {} } },
  { ...base, usage: { prompt_tokens: 1, cost: 0.5 } },
  { ...base, usage: { prompt_tokens: "1" } },
  { ...base, usage: { total_tokens: Number.POSITIVE_INFINITY } },
  { ...base, usage: [] },
  { ...base, usage: 3 },
  choice({ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: "{}" } }] } }),
  choice({ index: 0, delta: { function_call: { name: "f" } } }),
  choice({ index: 0, delta: { content: "x" }, logprobs: { content: [] } }),
  choice({ index: "0", delta: { content: "x" } }),
  choice({ index: 0, delta: { content: 5 } }),
  choice({ index: 0, delta: { reasoning_content: {} } }),
  choice({ index: 0, delta: { refusal: 1 } }),
  choice({ index: 0, delta: [], finish_reason: null }),
  choice({ index: 0, delta: "hi" }),
  choice({ index: 0, finish_reason: 1 }),
  choice({ text: 1 }),
  { ...base, id: 1, choices: [] },
  { ...base, model: false, choices: [] },
  { ...base, system_fingerprint: 1 },
  { ...base, service_tier: [] },
  { ...base, choices: {} },
  { ...base, choices: [null] },
  { ...base, choices: [[]] },
];

/**
 * The tests of a check that lets a value skip its schema: every value of `passes` is
 * taken, accepted by the schema and mapped to the same chunks as the schema's
 * output; every value of `leaves` is left to the schema; a number JSON.parse made
 * infinite (each of `infinite`, a JSON text) is left to the schema, which refuses it.
 */
function describeSchemaSkip(
  name: string,
  check: (value: unknown) => boolean,
  schema: { safeParse(value: unknown): { success: boolean; data?: unknown } },
  chunksOf: (value: unknown) => Chunk[],
  cases: { passes: unknown[]; leaves: unknown[]; infinite: string[] },
  more: () => void = () => {},
): void {
  describe(name, () => {
    it.each(cases.passes.map((value) => [JSON.stringify(value), value]))(
      "passes %s, which the schema accepts and maps to the same chunks",
      (_name, value) => {
        expect(check(value)).toBe(true);
        const parsed = schema.safeParse(value);
        expect(parsed.success).toBe(true);
        expect(chunksOf(value)).toEqual(chunksOf(parsed.data));
      },
    );

    it.each(cases.leaves.map((value) => [JSON.stringify(value), value]))(
      "leaves %s to the schema",
      (_name, value) => {
        expect(check(value)).toBe(false);
      },
    );

    it("leaves a number JSON.parse made infinite (1e999) to the schema, which refuses it", () => {
      for (const text of cases.infinite) {
        const value = JSON.parse(text);
        expect(schema.safeParse(value).success).toBe(false);
        expect(check(value)).toBe(false);
      }
    });

    more();
  });
}

describeSchemaSkip(
  "isPlainOpenAIChatChunk",
  isPlainOpenAIChatChunk,
  openAIChatChunkSchema,
  (event) => {
    const chunks: Chunk[] = [];
    new OpenAIChatChunkMapper().pushEvent(event as never, chunks);
    return chunks;
  },
  {
    passes: plain,
    leaves: leftToSchema,
    infinite: [
      '{"choices":[{"index":1e999,"delta":{"content":"x"}}]}',
      '{"choices":[],"usage":{"total_tokens":-1e999}}',
    ],
  },
);

const completionBase = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
};
const answer = (fields: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  ...completionBase,
  choices: [fields],
  ...more,
});
const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };

// Answers the check passes: the schema must accept each, and the mapper must make the
// same chunks from the answer as it is as from the schema's output.
const plainAnswers: unknown[] = [
  answer(
    { index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" },
    { usage },
  ),
  answer({ index: 0, message: { content: null, refusal: "no" }, finish_reason: "stop" }),
  answer({ index: 0, message: { content: "a", reasoning_content: "b", reasoning: null } }),
  answer({ index: 0, message: { content: "x" }, logprobs: null }, { usage: null }),
  answer({ text: "legacy text", finish_reason: "length" }),
  answer({ index: 2, message: null }),
  { ...completionBase, choices: [] },
  { choices: null },
  {},
  {
    id: "",
    model: "",
    system_fingerprint: "fp",
    service_tier: "default",
    choices: [
      { index: 0, message: { content: "one" }, finish_reason: "stop" },
      { index: 1, message: { content: "two", extra: [1] }, finish_reason: "stop", extra: {} },
    ],
    usage: { total_tokens: 3 },
  },
];

// Answers the check leaves to the schema: the rare kinds and every wrong type.
const answersLeftToSchema: unknown[] = [
  null,
  [],
  "text",
  answer({ index: 0, message: { tool_calls: [{ id: "c", function: { name: "f" } }] } }),
  answer({ index: 0, message: { function_call: { name: "f" } } }),
  answer({ index: 0, message: { content: "x" }, logprobs: { content: [] } }),
  answer(
    { index: 0, message: { content: "x" } },
    { usage: { ...usage, prompt_tokens_details: {} } },
  ),
  answer({ index: 0, message: { content: "x" } }, { usage: { ...usage, cost: 1 } }),
  answer({ index: 0, message: { content: "x" } }, { usage: { prompt_tokens: "5" } }),
  answer({ index: 0, message: { content: "x" } }, { usage: "5" }),
  answer({ index: "0", message: { content: "x" } }),
  answer({ index: 0, message: { content: 5 } }),
  answer({ index: 0, message: { reasoning: {} } }),
  answer({ index: 0, message: { refusal: 1 } }),
  answer({ index: 0, message: [] }),
  answer({ index: 0, message: "hi" }),
  answer({ index: 0, finish_reason: 1 }),
  answer({ text: 1 }),
  { ...completionBase, id: 1, choices: [] },
  { ...completionBase, model: false, choices: [] },
  { ...completionBase, system_fingerprint: 1 },
  { ...completionBase, service_tier: [] },
  { ...completionBase, choices: {} },
  { ...completionBase, choices: [null] },
  { ...completionBase, choices: [[]] },
];

describeSchemaSkip(
  "isPlainOpenAIChatCompletion",
  isPlainOpenAIChatCompletion,
  openAIChatCompletionSchema,
  (completion) => new OpenAIChatChunkMapper().completionChunks(completion as never),
  {
    passes: plainAnswers,
    leaves: answersLeftToSchema,
    infinite: [
      '{"choices":[{"index":1e999,"message":{"content":"x"}}]}',
      '{"choices":[],"usage":{"total_tokens":-1e999}}',
    ],
  },
  () => {
    it("maps a completion to the same chunks as the generator of the mapper does", () => {
      const completion = plainAnswers[0] as never;
      expect(new OpenAIChatChunkMapper().completionChunks(completion)).toEqual([
        ...new OpenAIChatChunkMapper().completion(completion),
      ]);
    });
  },
);
