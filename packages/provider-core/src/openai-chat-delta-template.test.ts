import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "../test-support/local-server.js";
import { frame } from "../test-support/openai-sse-frames.js";
import { chunkBatches } from "./chunk-batches.js";
import { closeDispatchers, sendRequest } from "./http-client.js";
import {
  type OpenAIChatChunk,
  OpenAIChatChunkMapper,
  openAIChatChunkSchema,
} from "./openai-chat-chunks.js";
import { OpenAIChatDeltaTemplate, TemplatedTextDelta } from "./openai-chat-delta-template.js";
import { readOpenAIChatResponse } from "./openai-chat-wire.js";
import type { Chunk } from "./response-chunks.js";
import { SseEventDecoder } from "./sse-events.js";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(closeDispatchers);

function textDelta(content: string, fields: Record<string, unknown> = {}) {
  return {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "gpt-4o-mini",
    system_fingerprint: "fp_1",
    ...fields,
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
  };
}

/** The chunks of an SSE body as the reader made them before the template: every event parsed and checked. */
function parsedChunks(body: string): Chunk[] {
  const decoder = new SseEventDecoder<OpenAIChatChunk>({
    provider: "Example",
    schema: openAIChatChunkSchema,
  });
  const mapper = new OpenAIChatChunkMapper();
  const chunks: Chunk[] = [];
  for (const event of [...decoder.push(Buffer.from(body)), ...decoder.end()])
    mapper.pushEvent(event, chunks);
  return chunks;
}

/** The chunks the reader makes of `body` served over HTTP in pieces of `pieceBytes`. */
async function readChunks(body: string, pieceBytes: number): Promise<Chunk[]> {
  server = await startLocalServer(async (_request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" });
    const bytes = Buffer.from(body);
    for (let start = 0; start < bytes.length; start += pieceBytes) {
      if (!response.write(bytes.subarray(start, start + pieceBytes)))
        await new Promise((resolve) => response.once("drain", resolve));
    }
    response.end();
  });
  const response = await sendRequest({ provider: "Example", url: server.url, json: {} });
  const chunks: Chunk[] = [];
  const batches = readOpenAIChatResponse(response, { provider: "Example" })[chunkBatches]();
  for (let next = await batches.next(); next.done !== true; next = await batches.next())
    chunks.push(...next.value);
  return chunks;
}

describe("the text-delta template of an OpenAI stream", () => {
  it("reads a stream to the same chunks as parsing every event, whatever its texts and other events", async () => {
    const texts = [
      "Hello",
      " world",
      "",
      'a "quoted" word',
      "back\\slash",
      "new\nline",
      "tab\there",
      "gpt-4o-mini",
      "chatcmpl-1",
      "émoji 🎉 and ünïcode",
      "\u2028separator",
      "plain again",
    ];
    const events = [
      { ...textDelta(""), choices: [{ index: 0, delta: { role: "assistant", content: "" } }] },
      ...texts.map((text) => textDelta(text)),
      // Another id mid-stream: a new ResponseMetadata, then text of the first id again.
      textDelta("other id", { id: "chatcmpl-2" }),
      textDelta("first id again"),
      {
        ...textDelta(""),
        choices: [{ index: 0, delta: { reasoning_content: "thinking" }, finish_reason: null }],
      },
      {
        ...textDelta(""),
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, id: "call_1", function: { name: "f" } }] },
          },
        ],
      },
      textDelta("after the tool call"),
      { ...textDelta(""), choices: [{ index: 1, delta: { content: "choice one" } }] },
      { ...textDelta(""), choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      { ...textDelta(""), choices: [], usage: { prompt_tokens: 3, completion_tokens: 9 } },
    ];
    const body = `${events.map(frame).join("")}data: [DONE]\n\n`;
    const expected = parsedChunks(body);
    expect(expected.filter((chunk) => typeof chunk === "string").length).toBeGreaterThan(10);
    // Whole, and cut into pieces that split events (and characters) anywhere.
    expect(await readChunks(body, 1 << 20)).toEqual(expected);
    expect(await readChunks(body, 7)).toEqual(expected);
  });

  it("reads a text delta of the template without parsing it, and leaves one JSON would escape to the parse", () => {
    const template = new OpenAIChatDeltaTemplate();
    const first = JSON.stringify(textDelta("one"));
    expect(template.read(first)).toBeUndefined();
    // The first event of a stream is never learnt from (a short answer would not use it).
    template.learn(first, JSON.parse(first));
    expect(template.read(JSON.stringify(textDelta("two words")))).toBeUndefined();
    template.learn(first, JSON.parse(first));
    const next = template.read(JSON.stringify(textDelta("two words")));
    expect(next).toBeInstanceOf(TemplatedTextDelta);
    expect(next?.content).toBe("two words");
    expect(template.read(JSON.stringify(textDelta('a "quote"')))).toBeUndefined();
    expect(template.read(JSON.stringify(textDelta("line\nbreak")))).toBeUndefined();
    expect(template.read(JSON.stringify(textDelta("x", { model: "gpt-4o" })))).toBeUndefined();
  });

  it("never takes another field holding the same text for the content's place", () => {
    const template = new OpenAIChatDeltaTemplate();
    // The content is also the model's name, and the model comes first in the text.
    const first = JSON.stringify(textDelta("gpt-4o-mini"));
    template.learn(first, JSON.parse(first));
    template.learn(first, JSON.parse(first));
    const next = template.read(JSON.stringify(textDelta("later text")));
    expect(next?.content).toBe("later text");
    expect(next?.template.model).toBe("gpt-4o-mini");
  });

  it("stops learning from an upstream whose every event differs beyond its text", async () => {
    const events = Array.from({ length: 50 }, (_, index) =>
      textDelta(`word${index} `, { obfuscation: `pad${index}` }),
    );
    const body = `${events.map(frame).join("")}data: [DONE]\n\n`;
    const template = new OpenAIChatDeltaTemplate();
    for (const event of events) {
      const data = JSON.stringify(event);
      expect(template.read(data)).toBeUndefined();
      template.learn(data, event);
    }
    // Past a few templates that never matched, even a plain stream is no longer learnt:
    // the cost of learning stays bounded.
    const plain = JSON.stringify(textDelta("plain"));
    template.learn(plain, JSON.parse(plain));
    expect(template.read(JSON.stringify(textDelta("more")))).toBeUndefined();
    const fresh = new OpenAIChatDeltaTemplate();
    fresh.learn(plain, JSON.parse(plain));
    fresh.learn(plain, JSON.parse(plain));
    expect(fresh.read(JSON.stringify(textDelta("more")))?.content).toBe("more");
    expect(await readChunks(body, 1 << 20)).toEqual(parsedChunks(body));
  });
});
