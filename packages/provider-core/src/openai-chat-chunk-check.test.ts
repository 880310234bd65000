import { describe, expect, it } from "vitest";
import {
  isPlainOpenAIChatChunk,
  OpenAIChatChunkMapper,
  openAIChatChunkSchema,
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
];

// Events the check leaves to the schema: the rare kinds and every wrong type.
const leftToSchema: unknown[] = [
  null,
  [],
  "text",
  { ...base, usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
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

function chunksOf(event: unknown): Chunk[] {
  const chunks: Chunk[] = [];
  new OpenAIChatChunkMapper().pushEvent(event as never, chunks);
  return chunks;
}

describe("isPlainOpenAIChatChunk", () => {
  it.each(plain.map((event) => [JSON.stringify(event), event]))(
    "passes %s, which the schema accepts and maps to the same chunks",
    (_name, event) => {
      expect(isPlainOpenAIChatChunk(event)).toBe(true);
      const parsed = openAIChatChunkSchema.safeParse(event);
      expect(parsed.success).toBe(true);
      expect(chunksOf(event)).toEqual(chunksOf(parsed.data));
    },
  );

  it.each(leftToSchema.map((event) => [JSON.stringify(event), event]))(
    "leaves %s to the schema",
    (_name, event) => {
      expect(isPlainOpenAIChatChunk(event)).toBe(false);
    },
  );
});
