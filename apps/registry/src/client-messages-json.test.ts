import { afterEach, describe, expect, it } from "vitest";
import {
  type RecordingUpstream,
  startRecordingUpstream,
  startSurfaceRegistry,
} from "./__fixtures__/recording-upstream.js";
import { keptBodyBytesMinimum } from "./request-body.js";
import type { RunningServer } from "./server.js";

/*
 * A large request's messages go to a provider that forwards them unchanged as the
 * client's own JSON text (no second serialisation), and only where that text says
 * exactly what the parsed messages say; the upstream reads the same JSON either way.
 */

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

async function pair(): Promise<{ upstream: RecordingUpstream; server: RunningServer }> {
  const upstream = await startRecordingUpstream({ content: "ok" });
  opened.push(upstream);
  const registry = await startSurfaceRegistry([{ id: "openai", upstream }]);
  opened.push(registry);
  return { upstream, server: registry.server };
}

async function send(server: RunningServer, text: string): Promise<Response> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: text,
  });
  await response.arrayBuffer();
  return response;
}

function lastBodyText(upstream: RecordingUpstream): string {
  const request = upstream.server.requests.at(-1);
  if (request === undefined) throw new Error("the upstream received no request");
  return request.bodyText;
}

/** Every key of a JSON value in order, so that key order is compared too. */
function keyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyOrder);
  if (typeof value !== "object" || value === null) return value;
  return Object.entries(value).map(([key, inner]) => [key, keyOrder(inner)]);
}

const long = 'a \\"quoted\\" line\\n with \\u00e9 and \\\\ '.repeat(2000);

describe("a large request's messages", () => {
  it("reach an OpenAI-compatible upstream as the client's own text, in a body that JSON.parses to the general path's", async () => {
    const { upstream, server } = await pair();
    const messagesText = `[ {"role":"system","content":"Be brief"},\n {"role":"user","content":"${long}","name":"ann"}, {"role":"user","content":"\\ud83d\\ude00"} ]`;
    const large = `{ "model" : "gpt-4o-mini", "temperature": 0.5, "messages": ${messagesText}, "stream": false, "seed": 7 }`;
    expect(Buffer.byteLength(large)).toBeGreaterThan(keptBodyBytesMinimum);
    expect((await send(server, large)).status).toBe(200);
    const spliced = lastBodyText(upstream);
    expect(spliced.includes(messagesText)).toBe(true);
    // The same request with a small conversation takes the general path: the
    // large one's body is that body with the client's messages in it.
    const small = `{"model":"gpt-4o-mini","temperature":0.5,"messages":[{"role":"user","content":"hi"}],"stream":false,"seed":7}`;
    expect((await send(server, small)).status).toBe(200);
    const general = JSON.parse(lastBodyText(upstream));
    const expected = { ...general, messages: JSON.parse(messagesText) };
    expect(JSON.parse(spliced)).toEqual(expected);
    expect(keyOrder(JSON.parse(spliced))).toEqual(keyOrder(expected));
  });

  it("written in raw UTF-8 (not only ASCII) reach the upstream byte for byte", async () => {
    const { upstream, server } = await pair();
    const messagesText = `[{"role":"user","content":"${"héllo wörld 😀 ".repeat(4000)}"}]`;
    const sent = `{"model":"gpt-4o-mini","messages":${messagesText}}`;
    expect((await send(server, sent)).status).toBe(200);
    const received = lastBodyText(upstream);
    expect(received.includes(messagesText)).toBe(true);
    expect(JSON.parse(received).messages).toEqual(JSON.parse(messagesText));
  });

  it("are serialised from the parsed messages when the registry's conversation differs from the text", async () => {
    const { upstream, server } = await pair();
    // An assistant message without content becomes one with `content: null`.
    const messagesText = `[{"role":"user","content":"${long}"},{"role":"assistant"},{"role":"user","content":"go on"}]`;
    expect((await send(server, `{"model":"gpt-4o-mini","messages":${messagesText}}`)).status).toBe(
      200,
    );
    const sent = lastBodyText(upstream);
    expect(sent.includes(messagesText)).toBe(false);
    expect(JSON.parse(sent).messages[1]).toEqual({ role: "assistant", content: null });
    // Keys in another order than the registry writes them: sent in its order.
    const reordered = `[{"content":"${long}","role":"user"}]`;
    expect((await send(server, `{"model":"gpt-4o-mini","messages":${reordered}}`)).status).toBe(
      200,
    );
    const again = JSON.parse(lastBodyText(upstream));
    expect(Object.keys(again.messages[0])).toEqual(["role", "content"]);
  });

  it("carry a key given twice once, with its last value, as JSON.parse reads it", async () => {
    const { upstream, server } = await pair();
    const messagesText = `[{"role":"user","content":"first","content":"${long}"}]`;
    expect((await send(server, `{"model":"gpt-4o-mini","messages":${messagesText}}`)).status).toBe(
      200,
    );
    const sent = lastBodyText(upstream);
    expect(sent.includes('"first"')).toBe(false);
    expect(JSON.parse(sent).messages).toEqual(JSON.parse(messagesText));
  });

  it("are still refused with OpenAI's 400 when one is malformed", async () => {
    const { upstream, server } = await pair();
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"${long}","extra":1}]}`,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { type: string; param: string | null } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(upstream.server.requests).toHaveLength(0);
  });
});
