import { afterEach, describe, expect, it } from "vitest";
import type { AmigoChatFake, AmigoChatFakeOptions } from "./amigochat-fake.js";
import { startAmigoChatFake } from "./amigochat-fake.js";
import { parseSseData } from "./sse-data.js";

let fake: AmigoChatFake | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options?: AmigoChatFakeOptions): Promise<AmigoChatFake> {
  fake = await startAmigoChatFake(options);
  return fake;
}

const chatBody = {
  chatId: "7b8f1c2e-4d3a-4b5c-9e8f-0a1b2c3d4e5f",
  frequency_penalty: 0,
  max_tokens: 4000,
  messages: [{ role: "user", content: "Say hello" }],
  model: "gpt-4o-mini",
  personaId: "amigo",
  presence_penalty: 0,
  stream: true,
  temperature: 0.5,
  top_p: 0.95,
};

function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer" },
    body: JSON.stringify(body),
  });
}

/** The parsed JSON chunks of an SSE body, without `[DONE]`. */
async function streamedChunks(response: Response): Promise<unknown[]> {
  const payloads = parseSseData(await response.text());
  expect(payloads.at(-1)).toBe("[DONE]");
  return payloads.slice(0, -1).map((payload) => JSON.parse(payload) as unknown);
}

describe("startAmigoChatFake chat completions", () => {
  it("streams the default reply in 4-character OpenAI-style chunks, then stop and [DONE]", async () => {
    const server = await start();
    const response = await post(server.url, "/v1/chat/completions", chatBody);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const chunks = await streamedChunks(response);

    expect(chunks[0]).toEqual({
      id: "chatcmpl-fake",
      object: "chat.completion.chunk",
      created: 1735689600,
      model: "gpt-4o-mini",
      choices: [{ index: 0, delta: { content: "Hell" }, finish_reason: null }],
    });
    const contents = chunks.slice(0, -1).map((chunk) => {
      const { choices } = chunk as { choices: { delta: { content: string } }[] };
      return choices[0]?.delta.content;
    });
    expect(contents).toEqual(["Hell", "o fr", "om g", "pt-4", "o-mi", "ni!"]);
    expect(chunks.at(-1)).toMatchObject({
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
    });
  });

  it("records the request body and headers the client sent", async () => {
    const server = await start();
    await (await post(server.url, "/v1/chat/completions", chatBody)).text();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.json).toEqual(chatBody);
    expect(server.requests[0]?.headers.authorization).toBe("Bearer");
  });

  it("carries the text in a bare text field when textField is text", async () => {
    const server = await start({ textField: "text", reply: ["Hi", " there"] });
    const chunks = await streamedChunks(await post(server.url, "/v1/chat/completions", chatBody));
    expect(chunks.map((chunk) => (chunk as { choices: unknown[] }).choices[0])).toEqual([
      { index: 0, text: "Hi", finish_reason: null },
      { index: 0, text: " there", finish_reason: null },
      { index: 0, text: "", finish_reason: "stop" },
    ]);
  });

  it("appends a usage chunk before [DONE] when usage is on", async () => {
    const server = await start({ usage: true, reply: "12345678" });
    const chunks = await streamedChunks(await post(server.url, "/v1/chat/completions", chatBody));
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it("answers stream false with a chat.completion JSON and usage", async () => {
    const server = await start({ reply: "Plain answer" });
    const response = await post(server.url, "/v1/chat/completions", { ...chatBody, stream: false });
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      id: "chatcmpl-fake",
      object: "chat.completion",
      created: 1735689600,
      model: "gpt-4o-mini",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Plain answer" },
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
  });

  it("uses the reply set by setReply, given the request", async () => {
    const server = await start();
    server.setReply((request) => {
      const { messages } = request.json as { messages: { content: string }[] };
      return ["echo: ", messages[0]?.content ?? ""];
    });
    const chunks = await streamedChunks(await post(server.url, "/v1/chat/completions", chatBody));
    expect(chunks.slice(0, 2)).toMatchObject([
      { choices: [{ delta: { content: "echo: " } }] },
      { choices: [{ delta: { content: "Say hello" } }] },
    ]);
  });

  it("paces the chunks by chunkDelayMs", async () => {
    const server = await start({ chunkDelayMs: 20 });
    const startedAt = Date.now();
    await (await post(server.url, "/v1/chat/completions", chatBody)).text();
    // 6 content chunks, stop and [DONE]: 7 pauses after the first frame.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(120);
  });

  it("answers 400 in AmigoChat's shape when the body has no model", async () => {
    const server = await start();
    const response = await post(server.url, "/v1/chat/completions", { messages: [] });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400 });
  });
});

describe("startAmigoChatFake image generations", () => {
  it("answers deterministic URLs that name the model, two by default", async () => {
    const server = await start();
    const body = { prompt: "a cat", model: "flux-pro/v1.1", personaId: "flux-1-1-pro" };
    const response = await post(server.url, "/v1/images/generations", body);
    expect(await response.json()).toEqual({
      data: [
        { url: "https://images.example/flux-pro%2Fv1.1/1.png" },
        { url: "https://images.example/flux-pro%2Fv1.1/2.png" },
      ],
    });
    expect(server.requests[0]?.json).toEqual(body);
  });

  it("answers imageCount URLs", async () => {
    const server = await start({ imageCount: 3 });
    const response = await post(server.url, "/v1/images/generations", { model: "dall-e-3" });
    const { data } = (await response.json()) as { data: unknown[] };
    expect(data).toHaveLength(3);
  });
});

describe("startAmigoChatFake routing", () => {
  it("answers an unknown path with a 404 in AmigoChat's shape", async () => {
    const server = await start();
    const response = await post(server.url, "/v1/nothing", {});
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: "Not Found", statusCode: 404 });
  });

  it("answers a wrong method with a 405", async () => {
    const server = await start();
    const response = await fetch(`${server.url}/v1/chat/completions`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await response.json()).toEqual({ message: "Method Not Allowed", statusCode: 405 });
  });
});

describe("startAmigoChatFake faults", () => {
  it("applies a fault list to chat and image requests in order, skipping route misses", async () => {
    const server = await start({
      faults: [{ kind: "status", status: 503, retryAfter: "2" }, { kind: "html-block" }],
    });
    await post(server.url, "/v1/unknown", {});
    const first = await post(server.url, "/v1/chat/completions", chatBody);
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("2");
    expect(await first.json()).toEqual({ message: "Service Unavailable", statusCode: 503 });

    const second = await post(server.url, "/v1/images/generations", { model: "dall-e-3" });
    expect(second.status).toBe(403);
    expect(await second.text()).toContain("Sorry, you have been blocked");

    const third = await post(server.url, "/v1/chat/completions", chatBody);
    expect(third.status).toBe(200);
    await third.text();
  });

  it("replaces the plan with setFaults", async () => {
    const server = await start();
    server.setFaults(() => ({ kind: "error-in-stream", afterChunks: 1 }));
    const payloads = parseSseData(
      await (await post(server.url, "/v1/chat/completions", chatBody)).text(),
    );
    expect(payloads).toHaveLength(2);
    expect(JSON.parse(payloads[1] ?? "")).toHaveProperty("error.message");

    server.setFaults(undefined);
    await streamedChunks(await post(server.url, "/v1/chat/completions", chatBody));
  });

  it("answers the empty fault with a completion of empty content", async () => {
    const server = await start({ faults: [{ kind: "empty" }] });
    const response = await post(server.url, "/v1/chat/completions", { ...chatBody, stream: false });
    expect(await response.json()).toMatchObject({
      choices: [{ message: { content: "" }, finish_reason: "stop" }],
    });
  });

  it("answers the empty fault on images with no data", async () => {
    const server = await start({ faults: [{ kind: "empty" }] });
    const response = await post(server.url, "/v1/images/generations", { model: "dall-e-3" });
    expect(await response.json()).toEqual({ data: [] });
  });

  it("lets the connection go once a never-ending stream is cancelled", async () => {
    const server = await start({ faults: [{ kind: "never-end", afterChunks: 1 }] });
    const controller = new AbortController();
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify(chatBody),
      signal: controller.signal,
    });
    await response.body!.getReader().read();
    const closed = server.nextConnectionClose();
    controller.abort();
    expect(await closed).toBeLessThanOrEqual(Date.now());
  });
});
