import { afterAll, afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type LocalServer, startLocalServer } from "../test-support/local-server.js";
import {
  attachMessagesJson,
  EncodedJson,
  jsonBodyWithClientMessages,
  messagesJsonOf,
} from "./client-messages-json.js";
import { closeDispatchers, readJson, sendRequest } from "./http-client.js";
import type { Messages } from "./messages.js";

// The client's text: spaces, escapes and a key order of its own, all of which
// JSON.parse reads the same as the compact form JSON.stringify writes.
const clientText =
  '[ {"role" : "system", "content":"Be \\u0062rief"},\n  {"role":"user","content":"say \\"hi\\" \\\\ \\ud83d\\ude00 \\/"} ]';

function clientMessages(): Messages {
  const messages = JSON.parse(clientText) as Messages;
  attachMessagesJson(messages, Buffer.from(clientText));
  return messages;
}

/** What the general path sends for `body`: JSON.stringify's text, parsed back. */
function generalPath(body: object): unknown {
  return JSON.parse(JSON.stringify(body));
}

/** Every key of a JSON value in order, so that key order is compared too. */
function keyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyOrder);
  if (typeof value !== "object" || value === null) return value;
  return Object.entries(value).map(([key, inner]) => [key, keyOrder(inner)]);
}

describe("jsonBodyWithClientMessages", () => {
  it("splices the client's own text of the messages into a body that JSON.parses to exactly the general path's", () => {
    const messages = clientMessages();
    for (const body of [
      { model: "m", messages, stream: true, temperature: 0.5 },
      { messages, model: "m" },
      { model: "m", stop: ["\n"], messages },
      { messages },
      { user: undefined, messages, seed: undefined, model: "x" },
    ]) {
      const sent = jsonBodyWithClientMessages(body);
      expect(EncodedJson.isInstance(sent)).toBe(true);
      const text = Buffer.from((sent as EncodedJson).bytes).toString("utf8");
      expect(text).toContain(clientText);
      const parsed = JSON.parse(text);
      expect(parsed).toEqual(generalPath(body));
      expect(keyOrder(parsed)).toEqual(keyOrder(generalPath(body)));
    }
  });

  it("keeps a field named __proto__ a field of the body", () => {
    const body = JSON.parse('{"__proto__": {"x": 1}, "model": "m"}') as Record<string, unknown>;
    body.messages = clientMessages();
    const sent = jsonBodyWithClientMessages(body) as EncodedJson;
    const parsed = JSON.parse(Buffer.from(sent.bytes).toString("utf8"));
    expect(keyOrder(parsed)).toEqual(keyOrder(generalPath(body)));
  });

  it("hands back the body itself when its messages carry no client text", () => {
    const body = { model: "m", messages: JSON.parse(clientText) as Messages };
    expect(jsonBodyWithClientMessages(body)).toBe(body);
    expect(jsonBodyWithClientMessages({ model: "m" })).toEqual({ model: "m" });
  });

  it("hands back the body itself when its messages are another array than the one the text belongs to", () => {
    const messages = clientMessages();
    const mapped = messages.map(({ role, content }) => ({ role, content })) as Messages;
    const body = { model: "m", messages: mapped };
    expect(jsonBodyWithClientMessages(body)).toBe(body);
  });

  it("no longer matches a conversation grown or cut after the text was attached", () => {
    const messages = clientMessages();
    expect(messagesJsonOf(messages)).toBeDefined();
    messages.push({ role: "user", content: "one more" });
    expect(messagesJsonOf(messages)).toBeUndefined();
    messages.length = 1;
    expect(messagesJsonOf(messages)).toBeUndefined();
    expect(messagesJsonOf(undefined)).toBeUndefined();
    expect(messagesJsonOf("text")).toBeUndefined();
  });
});

describe("sendRequest with an EncodedJson body", () => {
  let server: LocalServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  afterAll(async () => {
    await closeDispatchers();
  });

  it("sends the bytes as they are, as application/json, and the upstream reads the general path's value", async () => {
    server = await startLocalServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end('{"ok":true}');
    });
    const body = { model: "m", messages: clientMessages(), stream: false };
    const sent = jsonBodyWithClientMessages(body) as EncodedJson;
    expect(sent.parts).toHaveLength(3);
    // Twice: a second attempt (a retry) sends the same pieces whole again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await sendRequest({
        provider: "Example",
        url: server.url,
        headers: { "Content-Length": "1" },
        json: sent,
      });
      expect(await readJson(response, z.object({ ok: z.boolean() }), "Example")).toEqual({
        ok: true,
      });
    }
    expect(server.requests).toHaveLength(2);
    for (const received of server.requests) {
      expect(received.method).toBe("POST");
      expect(received.headers["content-type"]).toBe("application/json");
      expect(received.headers["content-length"]).toBe(String(sent.byteLength));
      expect(received.headers["transfer-encoding"]).toBeUndefined();
      expect(received.body).toBe(sent.bytes.toString("utf8"));
      expect(JSON.parse(received.body)).toEqual(generalPath(body));
    }
  });
  it("sends a body over 64 KiB as its pieces, and one below as one buffer: the same bytes either way", async () => {
    server = await startLocalServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end('{"ok":true}');
    });
    const longText = JSON.stringify([{ role: "user", content: "many words ".repeat(8000) }]);
    const longMessages = JSON.parse(longText) as Messages;
    attachMessagesJson(longMessages, Buffer.from(longText));
    const bodies = [
      jsonBodyWithClientMessages({ model: "m", messages: clientMessages(), stream: true }),
      jsonBodyWithClientMessages({ model: "m", messages: longMessages, stream: true }),
    ] as EncodedJson[];
    expect(bodies[1]?.byteLength).toBeGreaterThan(64 * 1024);
    for (const sent of bodies) {
      const response = await sendRequest({ provider: "Example", url: server.url, json: sent });
      await response.text();
    }
    expect(server.requests.map((received) => received.body)).toEqual(
      bodies.map((sent) => sent.bytes.toString("utf8")),
    );
    expect(server.requests.map((received) => received.headers["content-length"])).toEqual(
      bodies.map((sent) => String(sent.byteLength)),
    );
  });
});
