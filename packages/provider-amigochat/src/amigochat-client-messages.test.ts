import { type Chunk, closeDispatchers, type Messages } from "@g4f-ts/provider-core";
import { attachMessagesJson } from "@g4f-ts/provider-core/internal";
import { type AmigoChatFake, startAmigoChatFake } from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { AmigoChat } from "./amigochat-provider.js";

/*
 * A conversation that carries the client's own JSON text (see the core's
 * `attachMessagesJson`) is sent as that text where AmigoChat's mapping would not
 * change it; the general path (the same conversation without the text) is the judge.
 */

let fake: AmigoChatFake;
beforeEach(async () => {
  fake = await startAmigoChatFake();
});
afterEach(async () => {
  await fake.close();
});
afterAll(async () => {
  await closeDispatchers();
});

async function sentBody(messages: Messages): Promise<string> {
  const amigo = new AmigoChat({ baseUrl: fake.url });
  const chunks: Chunk[] = [];
  const call = amigo.createAsyncGenerator("gpt-4o-mini", messages, { chatId: "chat-1" });
  for await (const chunk of call) chunks.push(chunk);
  expect(chunks.length).toBeGreaterThan(0);
  const request = fake.requests.at(-1);
  if (request === undefined) throw new Error("the fake received no request");
  return request.bodyText;
}

/** The same conversation twice: once with its text attached, once without (the general path). */
function bothWays(text: string): { attached: Messages; general: Messages } {
  const attached = JSON.parse(text) as Messages;
  attachMessagesJson(attached, Buffer.from(text));
  return { attached, general: JSON.parse(text) as Messages };
}

/** Every key of a JSON value in order, so that key order is compared too. */
function keyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyOrder);
  if (typeof value !== "object" || value === null) return value;
  return Object.entries(value).map(([key, inner]) => [key, keyOrder(inner)]);
}

describe("a conversation carrying the client's own JSON text", () => {
  it("goes as that text when AmigoChat sends it unchanged, and JSON.parses to exactly the general path's body", async () => {
    const text =
      '[{"role":"system","content":"Be \\u0062rief"}, {"role":"user","content":[{"type":"text","text":"a \\"b\\""},{"type":"text","text":"c"}]},\n {"role":"assistant","content":""},{"role":"user","content":"\\ud83d\\ude00"}]';
    const { attached, general } = bothWays(text);
    const spliced = await sentBody(attached);
    const serialised = await sentBody(general);
    expect(spliced).toContain(text);
    expect(serialised).not.toContain(text);
    expect(JSON.parse(spliced)).toEqual(JSON.parse(serialised));
    expect(keyOrder(JSON.parse(spliced))).toEqual(keyOrder(JSON.parse(serialised)));
  });

  it("is mapped from the parsed messages when AmigoChat changes them (developer, a name, parts joined, a null content)", async () => {
    for (const text of [
      '[{"role":"developer","content":"Be brief"},{"role":"user","content":"hi"}]',
      '[{"role":"user","content":"hi","name":"ann"}]',
      '[{"content":"hi","role":"user"}]',
      '[{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"user","content":"ok"}]',
      '[{"role":"assistant","content":null},{"role":"user","content":"hi"}]',
      '[{"role":"system","content":[{"type":"text","text":"Be brief"}]},{"role":"user","content":"hi"}]',
    ]) {
      const { attached, general } = bothWays(text);
      const fromAttached = await sentBody(attached);
      expect(fromAttached).not.toContain(text);
      expect(fromAttached).toBe(await sentBody(general));
    }
  });
});
