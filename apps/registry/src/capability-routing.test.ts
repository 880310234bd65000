import {
  fullModelCapabilities,
  type ModelCapabilities,
  samplingFeatures,
  textModelCapabilities,
} from "@g4f-ts/provider-core";
import { afterEach, describe, expect, it } from "vitest";
import { type ChatBody, type ErrorBody, readJson } from "./__fixtures__/http-bodies.js";
import { type ScriptedProvider, scriptedProvider } from "./__fixtures__/scripted-provider.js";
import { startScriptedServer } from "./__fixtures__/scripted-server.js";
import type { RegistryConfigInput } from "./config.js";
import type { RunningServer } from "./server.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

async function serve(providers: ScriptedProvider[], config: RegistryConfigInput = {}) {
  const server = await startScriptedServer(providers, { logLevel: "silent", ...config });
  servers.push(server);
  return server;
}

function chat(server: RunningServer, body: Record<string, unknown>, path = "/v1/chat/completions") {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "m",
      messages: [{ role: "user", content: "What is the weather?" }],
      ...body,
    }),
  });
}

const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "The weather of a city",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  },
];

function provider(id: string, capabilities: ModelCapabilities, priority = 0) {
  return {
    provider: scriptedProvider({ id, chatModels: ["m"], capabilities }),
    priority,
  };
}

function priorities(...entries: { provider: ScriptedProvider; priority: number }[]) {
  return {
    providers: entries.map((entry) => ({ id: entry.provider.id, priority: entry.priority })),
  } satisfies RegistryConfigInput;
}

const withTools: ModelCapabilities = {
  features: [...samplingFeatures, "tools", "toolChoice"],
  inputs: [],
  responseFormats: [],
};

describe("capability-aware routing", () => {
  it("routes a request with tools past a candidate that cannot call tools", async () => {
    const text = provider("text-only", textModelCapabilities, 10);
    const tooling = provider("tooling", withTools);
    const server = await serve([text.provider, tooling.provider], priorities(text, tooling));
    const response = await chat(server, { tools, tool_choice: "required" });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-provider")).toBe("tooling");
    expect(text.provider.calls).toHaveLength(0);
    expect(tooling.provider.calls[0]?.options).toMatchObject({ tools, toolChoice: "required" });
  });

  it("answers 400 naming the field and the reason when no provider of the model can honour it", async () => {
    const text = provider("text-only", textModelCapabilities);
    const server = await serve([text.provider]);
    const response = await chat(server, { tools });
    expect(response.status).toBe(400);
    const { error } = await readJson<ErrorBody>(response);
    expect(error).toMatchObject({
      type: "invalid_request_error",
      param: "tools",
      code: "unsupported_parameter",
    });
    expect(error.message).toMatch(/^tools: no enabled provider of "m" supports tool calls/);
    expect(text.provider.calls).toHaveLength(0);
  });

  it("names a pinned provider that cannot honour the field, by the body field and by the path", async () => {
    const text = provider("text-only", textModelCapabilities);
    const tooling = provider("tooling", withTools);
    const server = await serve([text.provider, tooling.provider]);
    for (const response of [
      await chat(server, { tools, provider: "text-only" }),
      await chat(server, { tools }, "/api/text-only/chat/completions"),
    ]) {
      expect(response.status).toBe(400);
      const { error } = await readJson<ErrorBody>(response);
      expect(error.param).toBe("tools");
      expect(error.message).toMatch(
        /^tools: the provider "text-only" \(pinned\) does not support tool calls for "m"/,
      );
    }
    expect(text.provider.calls).toHaveLength(0);
    expect(tooling.provider.calls).toHaveLength(0);
  });

  it("names each field it can not pass on: sampling, response format, content parts and tool history", async () => {
    const text = provider("text-only", textModelCapabilities);
    const server = await serve([text.provider]);
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ seed: 7 }, "seed", /supports `seed`/],
      [{ stop: ["\n"] }, "stop", /supports `stop`/],
      [{ n: 2 }, "n", /several choices/],
      [{ response_format: { type: "json_object" } }, "response_format", /json_object output/],
      [{ max_completion_tokens: 5 }, "max_completion_tokens", /`max_completion_tokens`/],
      [{ prediction: { type: "content", content: "x" } }, "prediction", /extra request fields/],
      [
        {
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "What is this?" },
                { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
              ],
            },
          ],
        },
        "messages.0.content.1",
        /image input/,
      ],
      [
        {
          messages: [
            { role: "user", content: "Weather?" },
            {
              role: "assistant",
              content: null,
              tool_calls: [
                { id: "call_1", type: "function", function: { name: "w", arguments: "{}" } },
              ],
            },
            { role: "tool", tool_call_id: "call_1", content: "sunny" },
          ],
        },
        "messages.1.tool_calls",
        /tool calls/,
      ],
    ];
    for (const [body, param, message] of cases) {
      const response = await chat(server, body);
      expect(response.status, param).toBe(400);
      const { error } = await readJson<ErrorBody>(response);
      expect(error.param, param).toBe(param);
      expect(error.message, param).toMatch(message);
    }
    expect(text.provider.calls).toHaveLength(0);
  });

  it("lists what each provider lacks when each could honour part of the request but none all of it", async () => {
    const tooling = provider("tooling", withTools);
    const seeding = provider("seeding", {
      features: [...samplingFeatures, "seed"],
      inputs: [],
      responseFormats: [],
    });
    const server = await serve([tooling.provider, seeding.provider]);
    const response = await chat(server, { tools, seed: 7 });
    expect(response.status).toBe(400);
    const { error } = await readJson<ErrorBody>(response);
    expect(error.param).toBe("seed");
    expect(error.message).toMatch(
      /^seed: no enabled provider of "m" supports everything the request asks for \(tooling: `seed`; seeding: tool calls\)/,
    );
  });

  it("does not count logprobs: false as a need, and leaves it out for a provider without logprobs", async () => {
    const text = provider("text-only", textModelCapabilities);
    const server = await serve([text.provider]);
    const response = await chat(server, { logprobs: false });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-dropped-params")).toBeNull();
    expect(text.provider.calls[0]?.options).not.toHaveProperty("logprobs");
  });

  it("forwards fields it has no name for through extraBody to a provider that takes them", async () => {
    const full = provider("full", fullModelCapabilities);
    const server = await serve([full.provider]);
    const prediction = { type: "content", content: "The weather is" };
    const response = await chat(server, {
      prediction,
      store: false,
      verbosity: "low",
      web_search_options: { search_context_size: "low" },
    });
    expect(response.status).toBe(200);
    expect(full.provider.calls[0]?.options.extraBody).toEqual({
      prediction,
      store: false,
      verbosity: "low",
      web_search_options: { search_context_size: "low" },
    });
  });

  describe('with routing.unsupportedFields: "drop"', () => {
    const drop = { routing: { unsupportedFields: "drop" as const } };

    it("drops what the provider cannot honour and names the fields in x-g4f-dropped-params", async () => {
      const text = provider("text-only", textModelCapabilities);
      const server = await serve([text.provider], drop);
      const response = await chat(server, {
        stop: ["\n"],
        seed: 7,
        temperature: 0.5,
        prediction: { type: "content", content: "x" },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-g4f-dropped-params")).toBe("stop, seed, prediction");
      const { options } = text.provider.calls[0] ?? { options: {} };
      expect(options).toMatchObject({ temperature: 0.5 });
      expect(options).not.toHaveProperty("stop");
      expect(options).not.toHaveProperty("seed");
      expect(options).not.toHaveProperty("extraBody");
    });

    it("prefers a later provider that honours every field over an earlier one that would drop some", async () => {
      const text = provider("text-only", textModelCapabilities, 10);
      const full = provider("full", fullModelCapabilities);
      const server = await serve([text.provider, full.provider], {
        ...drop,
        ...priorities(text, full),
      });
      const response = await chat(server, { seed: 7 });
      expect(response.headers.get("x-g4f-provider")).toBe("full");
      expect(response.headers.get("x-g4f-dropped-params")).toBeNull();
      expect(full.provider.calls[0]?.options).toMatchObject({ seed: 7 });
      expect(text.provider.calls).toHaveLength(0);
    });

    it("falls back to a provider that drops the field when the one that honours it fails", async () => {
      const full = scriptedProvider({
        id: "full",
        chatModels: ["m"],
        capabilities: fullModelCapabilities,
        script: [[]],
      });
      const text = provider("text-only", textModelCapabilities);
      const server = await serve([full, text.provider], drop);
      const response = await chat(server, { seed: 7 });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-g4f-provider")).toBe("text-only");
      expect(response.headers.get("x-g4f-dropped-params")).toBe("seed");
      expect(full.calls[0]?.options).toMatchObject({ seed: 7 });
      expect(text.provider.calls[0]?.options).not.toHaveProperty("seed");
      expect((await readJson<ChatBody>(response)).choices[0]?.message.content).toBe(
        "Hello from text-only",
      );
    });

    it("never drops content the model can not read: an image part is still a 400", async () => {
      const text = provider("text-only", textModelCapabilities);
      const server = await serve([text.provider], drop);
      const response = await chat(server, {
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: "https://images.example/cat.png" } }],
          },
        ],
      });
      expect(response.status).toBe(400);
      expect((await readJson<ErrorBody>(response)).error.param).toBe("messages.0.content.0");
      expect(text.provider.calls).toHaveLength(0);
    });
  });
});
