import { textModelCapabilities } from "@g4f-ts/provider-core";
import { afterEach, describe, expect, it } from "vitest";
import { postJson, sseData } from "./__fixtures__/amigo-pair.js";
import { type ChatBody, type ErrorBody, readJson } from "./__fixtures__/http-bodies.js";
import {
  type RecordingUpstream,
  startRecordingUpstream,
  startSurfaceRegistry,
  type UpstreamAnswer,
  type UpstreamProviderOptions,
  type UpstreamTurn,
} from "./__fixtures__/recording-upstream.js";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";
import type { RegistryConfigInput } from "./config.js";
import type { RunningServer } from "./server.js";

/*
 * The whole Chat Completions surface end to end: a request through the registry
 * to an OpenAI-compatible provider whose fake upstream records what it got, and
 * the upstream's answer back to the client, in JSON and in SSE.
 */

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

async function upstreamWith(
  answer: UpstreamAnswer | ((body: Record<string, unknown>) => UpstreamAnswer),
) {
  const upstream = await startRecordingUpstream(answer);
  opened.push(upstream);
  return upstream;
}

async function registryOf(
  providers: UpstreamProviderOptions[],
  config: RegistryConfigInput = {},
  extra: Parameters<typeof startSurfaceRegistry>[2] = [],
): Promise<RunningServer> {
  const registry = await startSurfaceRegistry(providers, config, extra);
  opened.push(registry);
  return registry.server;
}

async function single(answer: UpstreamAnswer) {
  const upstream = await upstreamWith(answer);
  const server = await registryOf([{ id: "openai", upstream }]);
  return { upstream, server };
}

const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "The weather of a city",
      parameters: { type: "object", properties: { city: { type: "string" } } },
      strict: false,
    },
  },
];

/** Every field of OpenAI's Chat Completions request, each set to something other than its default. */
const everyField = {
  model: "gpt-4o-mini",
  messages: [
    { role: "developer", content: "Be brief." },
    { role: "system", content: [{ type: "text", text: "You are a bot." }], name: "setup" },
    {
      role: "user",
      name: "ada",
      content: [
        { type: "text", text: "What do you see and hear?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
        { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
        {
          type: "file",
          file: { file_data: "data:application/pdf;base64,JVBE", filename: "a.pdf" },
        },
      ],
    },
    {
      role: "assistant",
      content: null,
      refusal: null,
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "sunny" },
    { role: "assistant", content: [{ type: "refusal", refusal: "No." }], refusal: "No." },
    { role: "assistant", content: "Earlier", function_call: { name: "f", arguments: "{}" } },
    { role: "function", name: "f", content: "result" },
  ],
  max_tokens: 100,
  max_completion_tokens: 200,
  temperature: 0.3,
  top_p: 0.8,
  frequency_penalty: 0.1,
  presence_penalty: 0.2,
  n: 2,
  stop: ["END", "STOP"],
  seed: 42,
  user: "user-1",
  metadata: { team: "a" },
  logit_bias: { "50256": -100 },
  logprobs: true,
  top_logprobs: 3,
  reasoning_effort: "low",
  service_tier: "flex",
  tools,
  tool_choice: { type: "function", function: { name: "get_weather" } },
  parallel_tool_calls: false,
  response_format: {
    type: "json_schema",
    json_schema: { name: "answer", schema: { type: "object" }, strict: true },
  },
  modalities: ["text"],
  audio: { voice: "alloy", format: "wav" },
  prediction: { type: "content", content: "The weather is" },
  store: true,
  web_search_options: { search_context_size: "low" },
  verbosity: "low",
  prompt_cache_key: "cache-1",
  safety_identifier: "hash-1",
  a_field_openai_adds_tomorrow: { nested: [1, 2] },
};

describe("every request field, end to end", () => {
  it("reaches the upstream unchanged, from a JSON request and from a streamed one", async () => {
    const { upstream, server } = await single({ content: "Fine" });
    for (const stream of [false, true]) {
      const response = await postJson(server, "/v1/chat/completions", {
        ...everyField,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    const [fromJson, fromStream] = upstream.chatBodies();
    // The registry always asks its providers to stream (failures show sooner), with usage.
    const streamed = { stream: true, stream_options: { include_usage: true } };
    expect(fromJson).toEqual({ ...everyField, ...streamed });
    expect(fromStream).toEqual({ ...everyField, ...streamed });
  });
});

const turn: UpstreamTurn = {
  content: "It is sunny",
  reasoning: "Looked it up",
  toolCalls: [{ id: "call_9", name: "get_weather", arguments: '{"city":"Paris"}' }],
  finishReason: "tool_calls",
  logprobs: [
    { token: "It", logprob: -0.01, bytes: [73, 116], top_logprobs: [] },
    { token: " is", logprob: -0.02, bytes: [32, 105, 115], top_logprobs: [] },
  ],
  usage: {
    prompt_tokens: 21,
    completion_tokens: 13,
    total_tokens: 34,
    prompt_tokens_details: { cached_tokens: 8, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 4, accepted_prediction_tokens: 0 },
  },
  systemFingerprint: "fp_44709d6fcb",
  serviceTier: "default",
};

interface StreamedChunk {
  system_fingerprint?: string;
  service_tier?: string;
  choices: {
    index: number;
    delta: {
      content?: string;
      refusal?: string;
      reasoning_content?: string;
      tool_calls?: Record<string, unknown>[];
    };
    logprobs?: { content: unknown[] } | null;
    finish_reason: string | null;
  }[];
  usage?: unknown;
}

describe("every answer part, end to end", () => {
  it("comes back intact in JSON: n choices with content, reasoning, tool calls, logprobs, usage details, fingerprint and tier", async () => {
    const { server } = await single(turn);
    const response = await postJson(server, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Weather?" }],
      n: 2,
      logprobs: true,
      tools,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-usage-estimated")).toBeNull();
    const body = await readJson<ChatBody>(response);
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "gpt-4o-mini",
      provider: "openai",
      system_fingerprint: "fp_44709d6fcb",
      service_tier: "default",
      usage: turn.usage,
    });
    expect(body.choices).toEqual(
      [0, 1].map((index) => ({
        index,
        message: {
          role: "assistant",
          content: index === 0 ? "It is sunny" : "It is sunny (1)",
          refusal: null,
          tool_calls: [
            {
              id: "call_9",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Paris"}' },
            },
          ],
          reasoning_content: "Looked it up",
        },
        logprobs: { content: turn.logprobs, refusal: null },
        finish_reason: "tool_calls",
      })),
    );
  });

  it("comes back intact in SSE: the same parts, piece by piece, each choice with its index", async () => {
    const { server } = await single(turn);
    const response = await postJson(server, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Weather?" }],
      n: 2,
      logprobs: true,
      tools,
      stream: true,
      stream_options: { include_usage: true },
    });
    const payloads = sseData(await response.text());
    expect(payloads.at(-1)).toBe("[DONE]");
    const chunks = payloads.slice(0, -1).map((payload) => JSON.parse(payload) as StreamedChunk);
    for (const chunk of chunks)
      expect(chunk).toMatchObject({ system_fingerprint: "fp_44709d6fcb", service_tier: "default" });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: turn.usage });
    for (const index of [0, 1]) {
      const mine = chunks.flatMap((chunk) =>
        chunk.choices.filter((choice) => choice.index === index),
      );
      expect(mine.map((choice) => choice.delta.content ?? "").join("")).toBe(
        index === 0 ? "It is sunny" : "It is sunny (1)",
      );
      expect(mine.map((choice) => choice.delta.reasoning_content ?? "").join("")).toBe(
        "Looked it up",
      );
      expect(mine.flatMap((choice) => choice.delta.tool_calls ?? [])).toEqual([
        {
          index: 0,
          id: "call_9",
          type: "function",
          function: { name: "get_weather", arguments: "" },
        },
        { index: 0, function: { arguments: '{"city":' } },
        { index: 0, function: { arguments: '"Paris"}' } },
      ]);
      expect(mine.flatMap((choice) => choice.logprobs?.content ?? [])).toEqual(turn.logprobs);
      expect(mine.at(-1)?.finish_reason).toBe("tool_calls");
    }
  });

  it("answers a refusal as a success 10 times in a row, in JSON and SSE, and cools nothing down", async () => {
    const { server, upstream } = await single({ refusal: "I can't help with that." });
    for (let request = 0; request < 10; request++) {
      const stream = request % 2 === 1;
      const response = await postJson(server, "/v1/chat/completions", {
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Something bad" }],
        stream,
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      if (stream) expect(text).toContain('"refusal":"I can');
      else
        expect((JSON.parse(text) as ChatBody).choices[0]?.message.refusal).toBe(
          "I can't help with that.",
        );
    }
    expect(upstream.chatBodies()).toHaveLength(10);
    const [openai] = server.registry.describeProviders();
    expect(openai?.health).toMatchObject({
      status: "ok",
      consecutive_failures: 0,
      failures: 0,
      successes: 10,
    });
  });
});

describe("fallback with tools", () => {
  it("skips a candidate without tool support, and falls from a tool-capable one that answers 503 to the next", async () => {
    const failing = await upstreamWith({ status: 503, message: "overloaded" });
    const answering = await upstreamWith({
      toolCalls: [{ id: "call_2", name: "get_weather", arguments: '{"city":"Oslo"}' }],
    });
    const textOnly = scriptedProvider({
      id: "text-only",
      chatModels: ["gpt-4o-mini"],
      capabilities: textModelCapabilities,
    });
    const server = await registryOf(
      [
        { id: "failing", upstream: failing, priority: 5 },
        { id: "answering", upstream: answering, priority: 0 },
      ],
      { providers: [{ id: "text-only", priority: 10 }] } as RegistryConfigInput,
      [textOnly],
    );
    for (const stream of [false, true]) {
      const response = await postJson(server, "/v1/chat/completions", {
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Weather in Oslo?" }],
        tools,
        tool_choice: "required",
        stream,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-g4f-provider")).toBe("answering");
      const text = await response.text();
      expect(text).toContain('"id":"call_2"');
      expect(text).toContain('"finish_reason":"tool_calls"');
    }
    expect(textOnly.calls).toHaveLength(0);
    expect(failing.chatBodies()).toHaveLength(2);
    for (const body of [...failing.chatBodies(), ...answering.chatBodies()])
      expect(body).toMatchObject({ tools, tool_choice: "required" });
  });

  it("answers 400 naming tools when no provider of the model supports them", async () => {
    const upstream = await upstreamWith({ content: "never" });
    const server = await registryOf([
      {
        id: "no-tools",
        upstream,
        options: {
          capabilities: { default: { without: ["tools", "toolChoice", "parallelToolCalls"] } },
        },
      },
    ]);
    const response = await postJson(server, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Weather?" }],
      tools,
    });
    expect(response.status).toBe(400);
    const { error } = await readJson<ErrorBody>(response);
    expect(error.param).toBe("tools");
    expect(error.message).toMatch(
      /^tools: no enabled provider of "gpt-4o-mini" supports tool calls/,
    );
    expect(upstream.chatBodies()).toHaveLength(0);
  });
});

describe("image fields, end to end", () => {
  async function imageRegistry(): Promise<{ upstream: RecordingUpstream; server: RunningServer }> {
    const upstream = await upstreamWith({ content: "unused" });
    const server = await registryOf([
      { id: "openai", upstream, models: ["gpt-4o-mini"], imageModels: ["dall-e-3"] },
    ]);
    return { upstream, server };
  }

  it("forwards n, size, quality, style and other fields, and gives n images", async () => {
    const { upstream, server } = await imageRegistry();
    const response = await postJson(server, "/v1/images/generations", {
      model: "dall-e-3",
      prompt: "a red fox",
      n: 2,
      size: "1024x1792",
      quality: "hd",
      style: "natural",
      background: "transparent",
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { url: string }[] };
    expect(body.data.map((image) => image.url)).toEqual([
      "https://images.example/1.png",
      "https://images.example/2.png",
    ]);
    expect(upstream.imageBodies()).toEqual([
      {
        model: "dall-e-3",
        prompt: "a red fox",
        n: 2,
        size: "1024x1792",
        quality: "hd",
        style: "natural",
        background: "transparent",
      },
    ]);
  });

  it('serves response_format: "b64_json" as base64 data', async () => {
    const { upstream, server } = await imageRegistry();
    const response = await postJson(server, "/v1/images/generations", {
      model: "dall-e-3",
      prompt: "a red fox",
      n: 2,
      response_format: "b64_json",
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { b64_json?: string; url?: string }[] };
    expect(
      body.data.map((image) => Buffer.from(image.b64_json ?? "", "base64").toString()),
    ).toEqual(["image 1", "image 2"]);
    expect(body.data.every((image) => image.url === undefined)).toBe(true);
    expect(upstream.imageBodies()[0]).toMatchObject({ response_format: "b64_json" });
  });

  it("answers 400 naming the field an image provider can not honour", async () => {
    const image = scriptedProvider({
      id: "pictures",
      chatModels: [],
      imageModels: ["flux"],
      script: [[]],
    });
    const server = await registryOf([], {}, [image]);
    for (const [field, value] of [
      ["n", 2],
      ["size", "512x512"],
      ["response_format", "b64_json"],
    ] as const) {
      const response = await postJson(server, "/v1/images/generations", {
        model: "flux",
        prompt: "a red fox",
        [field]: value,
      });
      expect(response.status, field).toBe(400);
      const { error } = await readJson<ErrorBody>(response);
      expect(error.param, field).toBe(field);
      expect(error.code).toBe("unsupported_parameter");
    }
    expect(image.calls).toHaveLength(0);
  });
});
