import { afterEach, describe, expect, it } from "vitest";
import type { OpenAICompatibleFake, OpenAICompatibleFakeOptions } from "./openai-fake.js";
import { startOpenAICompatibleFake } from "./openai-fake.js";
import { parseSseData } from "./sse-data.js";

let fake: OpenAICompatibleFake | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options?: OpenAICompatibleFakeOptions): Promise<OpenAICompatibleFake> {
  fake = await startOpenAICompatibleFake(options);
  return fake;
}

function post(url: string, path: string, body: unknown, apiKey?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`;
  return fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
}

const chatBody = { model: "fake-model", messages: [{ role: "user", content: "Hi" }] };

describe("startOpenAICompatibleFake", () => {
  it("lists the configured models", async () => {
    const server = await start({ models: ["small", "large"], ownedBy: "acme" });
    const response = await fetch(`${server.url}/v1/models`);
    expect(await response.json()).toEqual({
      object: "list",
      data: [
        { id: "small", object: "model", created: 1735689600, owned_by: "acme" },
        { id: "large", object: "model", created: 1735689600, owned_by: "acme" },
      ],
    });
  });

  it("lists fake-model by default", async () => {
    const server = await start();
    const { data } = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      data: { id: string }[];
    };
    expect(data.map((model) => model.id)).toEqual(["fake-model"]);
  });

  it("answers 401 in OpenAI's shape without the right API key, and 200 with it", async () => {
    const server = await start({ apiKey: "sk-test" });
    const missing = await post(server.url, "/v1/chat/completions", chatBody);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      error: {
        message: "Incorrect API key provided",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
    const wrong = await post(server.url, "/v1/chat/completions", chatBody, "sk-wrong");
    expect(wrong.status).toBe(401);
    await wrong.text();

    const right = await post(server.url, "/v1/chat/completions", chatBody, "sk-test");
    expect(right.status).toBe(200);
    expect(right.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await right.json()).toMatchObject({
      object: "chat.completion",
      choices: [{ message: { role: "assistant", content: "Hello from fake-model!" } }],
    });
  });

  it("streams a usage chunk only when stream_options.include_usage is set", async () => {
    const server = await start({ reply: ["one", "two"] });
    const without = parseSseData(
      await (await post(server.url, "/v1/chat/completions", { ...chatBody, stream: true })).text(),
    );
    expect(without).toHaveLength(4);
    expect(without.some((payload) => payload.includes('"usage"'))).toBe(false);

    const withUsage = parseSseData(
      await (
        await post(server.url, "/v1/chat/completions", {
          ...chatBody,
          stream: true,
          stream_options: { include_usage: true },
        })
      ).text(),
    );
    expect(withUsage).toHaveLength(5);
    expect(JSON.parse(withUsage[3] ?? "")).toEqual({
      id: "chatcmpl-fake",
      object: "chat.completion.chunk",
      created: 1735689600,
      model: "fake-model",
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
    expect(withUsage[4]).toBe("[DONE]");
  });

  it("answers image generations with created and n URLs", async () => {
    const server = await start();
    const response = await post(server.url, "/v1/images/generations", {
      prompt: "a dog",
      model: "dall-e-3",
      n: 1,
    });
    expect(await response.json()).toEqual({
      created: 1735689600,
      data: [{ url: "https://images.example/dall-e-3/1.png" }],
    });
  });

  it("answers an unknown path with a 404 in OpenAI's shape", async () => {
    const server = await start();
    const response = await fetch(`${server.url}/v1/embeddings`, { method: "POST", body: "{}" });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        message: "Invalid URL (POST /v1/embeddings)",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
  });

  it("answers a wrong method with a 405", async () => {
    const server = await start();
    const response = await post(server.url, "/v1/models", {});
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET");
    await response.text();
  });

  it("answers a status fault with an OpenAI error body", async () => {
    const server = await start({ faults: [{ kind: "status", status: 429, retryAfter: "1" }] });
    const response = await post(server.url, "/v1/chat/completions", chatBody);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toEqual({
      error: {
        message: "Too Many Requests",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    });
  });

  it("applies faults to the models list too", async () => {
    const server = await start({ faults: [{ kind: "not-json" }] });
    const response = await fetch(`${server.url}/v1/models`);
    expect(response.headers.get("content-type")).toBe("application/json");
    await expect(response.json()).rejects.toThrow();
  });

  it("cuts a stream after the given chunks", async () => {
    const server = await start({ faults: [{ kind: "cut-after", chunks: 1 }] });
    const response = await post(server.url, "/v1/chat/completions", { ...chatBody, stream: true });
    await expect(response.text()).rejects.toThrow();
  });
});
