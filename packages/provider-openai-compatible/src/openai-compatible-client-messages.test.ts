import { type Chunk, closeDispatchers, type Messages } from "@g4f-ts/provider-core";
import { attachMessagesJson } from "@g4f-ts/provider-core/internal";
import { type OpenAICompatibleFake, startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { OpenAICompatible } from "./openai-compatible-provider.js";

/*
 * Messages go to an OpenAI-compatible upstream unchanged: where they carry the
 * client's own JSON text (see the core's `attachMessagesJson`), that text is sent.
 * The general path (the same conversation without the text) is the judge.
 */

const apiKey = "sk-test-0123456789abcdef";
let fake: OpenAICompatibleFake;
beforeEach(async () => {
  fake = await startOpenAICompatibleFake({ apiKey, models: ["fake-chat"] });
});
afterEach(async () => {
  await fake.close();
});
afterAll(async () => {
  await closeDispatchers();
});

async function sentBody(messages: Messages, options: Record<string, unknown>): Promise<string> {
  const provider = new OpenAICompatible({
    baseUrl: `${fake.url}/v1`,
    apiKey,
    models: ["fake-chat"],
    extraBody: { top_k: 3 },
  });
  const chunks: Chunk[] = [];
  for await (const chunk of provider.createAsyncGenerator("fake-chat", messages, options))
    chunks.push(chunk);
  expect(chunks.length).toBeGreaterThan(0);
  const request = fake.requests.at(-1);
  if (request === undefined) throw new Error("the fake received no request");
  return request.bodyText;
}

/** Every key of a JSON value in order, so that key order is compared too. */
function keyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyOrder);
  if (typeof value !== "object" || value === null) return value;
  return Object.entries(value).map(([key, inner]) => [key, keyOrder(inner)]);
}

describe("a conversation carrying the client's own JSON text", () => {
  it("goes as that text, in a body that JSON.parses to exactly the general path's", async () => {
    const text =
      '[ {"role":"developer","content":"Be \\u0062rief","name":"ops"},\n{"role":"user","content":[{"type":"text","text":"a \\"b\\" \\\\"}]},' +
      '{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\\"x\\":1}"}}]},' +
      '{"role":"tool","content":"42","tool_call_id":"c1"}, {"content":"\\ud83d\\ude00","role":"user"} ]';
    const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
    for (const options of [
      { stream: true, temperature: 0.2, tools, extraBody: { seed_text: "s" } },
      { stream: false },
    ]) {
      const attached = JSON.parse(text) as Messages;
      attachMessagesJson(attached, Buffer.from(text));
      const spliced = await sentBody(attached, options);
      const serialised = await sentBody(JSON.parse(text) as Messages, options);
      expect(spliced).toContain(text);
      expect(serialised).not.toContain(text);
      expect(JSON.parse(spliced)).toEqual(JSON.parse(serialised));
      expect(keyOrder(JSON.parse(spliced))).toEqual(keyOrder(JSON.parse(serialised)));
    }
  });
});
