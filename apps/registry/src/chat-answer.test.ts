import {
  ChoiceChunk,
  type Chunk,
  FinishReason,
  fullModelCapabilities,
  Logprobs,
  Refusal,
  ResponseMetadata,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "@g4f-ts/provider-core";
import { afterEach, describe, expect, it } from "vitest";
import { sseData } from "./__fixtures__/amigo-pair.js";
import { type ChatBody, readJson } from "./__fixtures__/http-bodies.js";
import { type ScriptStep, scriptedProvider } from "./__fixtures__/scripted-provider.js";
import { startScriptedServer } from "./__fixtures__/scripted-server.js";
import type { RunningServer } from "./server.js";

/*
 * What the registry answers for each kind of chunk a provider yields, in JSON and
 * in SSE, with in-memory providers (the end-to-end path through a real upstream
 * is in chat-surface.test.ts).
 */

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

async function serveScript(script: ScriptStep[][], id = "alpha") {
  const provider = scriptedProvider({
    id,
    chatModels: ["m"],
    capabilities: fullModelCapabilities,
    script,
  });
  const server = await startScriptedServer([provider], { logLevel: "silent" });
  servers.push(server);
  return { provider, server };
}

function chat(server: RunningServer, body: Record<string, unknown> = {}) {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }], ...body }),
  });
}

interface StreamChunk {
  system_fingerprint?: string;
  service_tier?: string;
  choices: {
    index: number;
    delta: Record<string, unknown>;
    logprobs?: unknown;
    finish_reason: string | null;
  }[];
  usage?: Record<string, unknown>;
}

async function streamed(server: RunningServer, body: Record<string, unknown> = {}) {
  const response = await chat(server, { ...body, stream: true });
  const payloads = sseData(await response.text());
  expect(payloads.at(-1)).toBe("[DONE]");
  return {
    response,
    chunks: payloads.slice(0, -1).map((payload) => JSON.parse(payload) as StreamChunk),
  };
}

const weatherCall = {
  id: "call_1",
  type: "function" as const,
  function: { name: "get_weather", arguments: '{"city":"Paris"}' },
};

const streamedCall: Chunk[] = [
  new ToolCallDelta({ index: 0, id: "call_1", name: "get_weather" }),
  new ToolCallDelta({ index: 0, arguments: '{"city":' }),
  new ToolCallDelta({ index: 0, arguments: '"Paris"}' }),
  new FinishReason("tool_calls"),
];

describe("the answer parts of a chat completion", () => {
  it("returns a tool-only answer in JSON as message.tool_calls with content null", async () => {
    const { server } = await serveScript([streamedCall]);
    const response = await chat(server);
    expect(response.status).toBe(200);
    const body = await readJson<ChatBody>(response);
    expect(body.choices[0]).toEqual({
      index: 0,
      message: { role: "assistant", content: null, refusal: null, tool_calls: [weatherCall] },
      logprobs: null,
      finish_reason: "tool_calls",
    });
    expect(server.registry.describeProviders()[0]?.health).toMatchObject({
      failures: 0,
      successes: 1,
    });
  });

  it("streams tool calls as OpenAI does: a first piece with id, type, name and empty arguments, then argument pieces", async () => {
    const { server } = await serveScript([streamedCall]);
    const { chunks } = await streamed(server);
    expect(chunks.map((chunk) => chunk.choices[0])).toEqual([
      {
        index: 0,
        delta: {
          role: "assistant",
          tool_calls: [
            {
              index: 0,
              id: "call_1",
              type: "function",
              function: { name: "get_weather", arguments: "" },
            },
          ],
        },
        finish_reason: null,
      },
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
        finish_reason: null,
      },
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
        finish_reason: null,
      },
      { index: 0, delta: {}, finish_reason: "tool_calls" },
    ]);
  });

  it("streams whole tool calls (a JSON upstream's) as the same pieces, numbered after the streamed ones", async () => {
    const { server } = await serveScript([
      [
        new ToolCallDelta({ index: 0, id: "call_0", name: "a", arguments: "{}" }),
        new ToolCalls([weatherCall]),
      ],
    ]);
    const { chunks } = await streamed(server);
    const pieces = chunks.flatMap(
      (chunk) => (chunk.choices[0]?.delta.tool_calls as object[]) ?? [],
    );
    expect(pieces).toEqual([
      { index: 0, id: "call_0", type: "function", function: { name: "a", arguments: "" } },
      { index: 0, function: { arguments: "{}" } },
      {
        index: 1,
        id: "call_1",
        type: "function",
        function: { name: "get_weather", arguments: "" },
      },
      { index: 1, function: { arguments: '{"city":"Paris"}' } },
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("returns a refusal as a successful answer: message.refusal in JSON, delta.refusal in SSE", async () => {
    const { server } = await serveScript([
      [new Refusal("I can't "), new Refusal("help with that.")],
    ]);
    const response = await chat(server);
    expect(response.status).toBe(200);
    const body = await readJson<ChatBody>(response);
    expect(body.choices[0]?.message).toEqual({
      role: "assistant",
      content: null,
      refusal: "I can't help with that.",
    });
    const { chunks } = await streamed(server);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.refusal).filter(Boolean)).toEqual([
      "I can't ",
      "help with that.",
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("answers a content_filter without any text as a success, never a failure", async () => {
    const { server, provider } = await serveScript([[new FinishReason("content_filter")]]);
    for (let request = 0; request < 10; request++) {
      const response = await chat(server);
      expect(response.status).toBe(200);
      const body = await readJson<ChatBody>(response);
      expect(body.choices[0]?.finish_reason).toBe("content_filter");
      expect(body.choices[0]?.message.content).toBe("");
    }
    const { chunks } = await streamed(server);
    expect(chunks.map((chunk) => chunk.choices[0])).toEqual([
      { index: 0, delta: { role: "assistant" }, finish_reason: "content_filter" },
    ]);
    expect(provider.calls).toHaveLength(11);
    expect(server.registry.describeProviders()[0]?.health).toMatchObject({
      status: "ok",
      failures: 0,
      successes: 11,
    });
  });

  it("cools nothing down after 10 refusals in a row", async () => {
    const { server, provider } = await serveScript([[new Refusal("No.")]]);
    for (let request = 0; request < 10; request++) {
      const response = await chat(server, { stream: request % 2 === 0 });
      expect(response.status).toBe(200);
      await response.text();
    }
    expect(provider.calls).toHaveLength(10);
    expect(server.registry.describeProviders()[0]?.health).toMatchObject({
      status: "ok",
      consecutive_failures: 0,
      failures: 0,
      successes: 10,
    });
  });

  it("returns logprobs per choice, joined in JSON and as sent in SSE", async () => {
    const first = { token: "Hel", logprob: -0.1, bytes: [72, 101, 108], top_logprobs: [] };
    const second = { token: "lo", logprob: -0.2, bytes: [108, 111], top_logprobs: [] };
    const { server } = await serveScript([
      ["Hel", new Logprobs([first]), "lo", new Logprobs([second]), new FinishReason("stop")],
    ]);
    const body = await readJson<ChatBody>(await chat(server, { logprobs: true }));
    expect(body.choices[0]?.logprobs).toEqual({ content: [first, second], refusal: null });
    const { chunks } = await streamed(server, { logprobs: true });
    expect(chunks.map((chunk) => chunk.choices[0]?.logprobs).filter(Boolean)).toEqual([
      { content: [first], refusal: null },
      { content: [second], refusal: null },
    ]);
  });

  it("keeps the upstream's usage with its details, and the system_fingerprint and service_tier", async () => {
    const usage = new Usage({
      promptTokens: 11,
      completionTokens: 7,
      totalTokens: 18,
      promptTokensDetails: { cached_tokens: 4, audio_tokens: 0 },
      completionTokensDetails: { reasoning_tokens: 5 },
    });
    const metadata = new ResponseMetadata({ systemFingerprint: "fp_abc", serviceTier: "default" });
    const { server } = await serveScript([[metadata, "Hi", new FinishReason("stop"), usage]]);
    const response = await chat(server);
    expect(response.headers.get("x-g4f-usage-estimated")).toBeNull();
    const body = await readJson<ChatBody>(response);
    expect(body).toMatchObject({ system_fingerprint: "fp_abc", service_tier: "default" });
    expect(body.usage).toEqual({
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 5 },
    });
    const { chunks } = await streamed(server, { stream_options: { include_usage: true } });
    for (const chunk of chunks) expect(chunk.system_fingerprint).toBe("fp_abc");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: body.usage });
  });

  it("marks a usage it estimated: a header in JSON, estimated: true in the usage object", async () => {
    const { server } = await serveScript([["Hello there", new FinishReason("stop")]]);
    const response = await chat(server);
    expect(response.headers.get("x-g4f-usage-estimated")).toBe("true");
    const body = await readJson<ChatBody>(response);
    expect(body.usage).toMatchObject({ completion_tokens: 3, estimated: true });
    const { chunks } = await streamed(server, { stream_options: { include_usage: true } });
    expect(chunks.at(-1)?.usage).toMatchObject({ completion_tokens: 3, estimated: true });
  });

  it("passes on a provider's own estimate marked as such", async () => {
    const { server } = await serveScript([
      ["Hi", new Usage({ promptTokens: 1, completionTokens: 1, estimated: true })],
    ]);
    const response = await chat(server);
    expect(response.headers.get("x-g4f-usage-estimated")).toBe("true");
    expect((await readJson<ChatBody>(response)).usage).toEqual({
      prompt_tokens: 1,
      completion_tokens: 1,
      total_tokens: 2,
      estimated: true,
    });
  });

  it("returns n choices with their index, in JSON and in SSE", async () => {
    const { server, provider } = await serveScript([
      [
        "First",
        new ChoiceChunk(1, "Second"),
        new FinishReason("stop"),
        new ChoiceChunk(1, new FinishReason("length")),
      ],
    ]);
    const body = await readJson<ChatBody>(await chat(server, { n: 2 }));
    expect(provider.calls[0]?.options.n).toBe(2);
    expect(
      body.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason]),
    ).toEqual([
      [0, "First", "stop"],
      [1, "Second", "length"],
    ]);
    const { chunks } = await streamed(server, { n: 2 });
    expect(
      chunks.map((chunk) => [
        chunk.choices[0]?.index,
        chunk.choices[0]?.delta.content,
        chunk.choices[0]?.finish_reason,
      ]),
    ).toEqual([
      [0, "First", null],
      [1, "Second", null],
      [0, undefined, "stop"],
      [1, undefined, "length"],
    ]);
    expect(chunks[1]?.choices[0]?.delta.role).toBe("assistant");
  });

  it("gives each of n choices its role once and finishes them in the order of their indexes, whatever order they came in", async () => {
    const { server } = await serveScript([
      [
        new ChoiceChunk(2, "Third"),
        "First",
        new ChoiceChunk(2, " again"),
        new ChoiceChunk(1, new FinishReason("length")),
      ],
    ]);
    const body = await readJson<ChatBody>(await chat(server, { n: 3 }));
    expect(
      body.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason]),
    ).toEqual([
      [0, "First", "stop"],
      [1, "", "length"],
      [2, "Third again", "stop"],
    ]);
    const { chunks } = await streamed(server, { n: 3 });
    expect(
      chunks.map((chunk) => [
        chunk.choices[0]?.index,
        chunk.choices[0]?.delta.role,
        chunk.choices[0]?.delta.content,
        chunk.choices[0]?.finish_reason,
      ]),
    ).toEqual([
      [2, "assistant", "Third", null],
      [0, "assistant", "First", null],
      [2, undefined, " again", null],
      [0, undefined, undefined, "stop"],
      [1, "assistant", undefined, "length"],
      [2, undefined, undefined, "stop"],
    ]);
  });
});
