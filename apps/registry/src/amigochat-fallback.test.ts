import { setTimeout as sleep } from "node:timers/promises";
import { closedPortUrl } from "@g4f-ts/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AmigoPair,
  type AmigoPairOptions,
  postJson,
  sseData,
  startAmigoPair,
  streamedText,
} from "./__fixtures__/amigo-pair.js";
import { type ChatOrErrorBody, type ProvidersBody, readJson } from "./__fixtures__/http-bodies.js";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";

let pair: AmigoPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

async function start(options: AmigoPairOptions = {}): Promise<AmigoPair> {
  pair = await startAmigoPair(options);
  return pair;
}

const question = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] };

async function chat(current: AmigoPair, body: Record<string, unknown> = {}) {
  const response = await postJson(current.server, "/v1/chat/completions", { ...question, ...body });
  return { response, body: await readJson<ChatOrErrorBody>(response) };
}

async function stream(current: AmigoPair, body: Record<string, unknown> = {}) {
  const response = await postJson(current.server, "/v1/chat/completions", {
    ...question,
    ...body,
    stream: true,
  });
  return { response, payloads: sseData(await response.text()) };
}

describe("fallback across two AmigoChat upstreams", () => {
  it("falls back when the first upstream answers 5xx", async () => {
    const current = await start();
    current.a.setFaults([{ kind: "status", status: 503 }]);
    const { response, body } = await chat(current);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-provider")).toBe("amigo-b");
    expect(body.provider).toBe("amigo-b");
    expect(body.choices[0]?.message.content).toBe("Hello from gpt-4o-mini!");
    expect(current.a.requests).toHaveLength(1);
    expect(current.b.requests[0]?.json).toMatchObject({
      model: "gpt-4o-mini",
      personaId: "amigo",
      stream: true,
    });
  });

  it("falls back when the first upstream refuses the connection", async () => {
    const current = await start({ baseUrlA: await closedPortUrl() });
    const { response, body } = await chat(current);
    expect(response.status).toBe(200);
    expect(body.provider).toBe("amigo-b");
  });

  it("falls back when the first chunk takes longer than the first-chunk timeout, closing that upstream socket", async () => {
    const current = await start({ config: { routing: { timeouts: { firstChunkMs: 200 } } } });
    current.a.setFaults([{ kind: "delay-first-chunk", ms: 5_000 }]);
    const started = Date.now();
    const { payloads } = await stream(current);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(streamedText(payloads)).toBe("Hello from gpt-4o-mini!");
    expect((JSON.parse(payloads[0] as string) as { provider: string }).provider).toBe("amigo-b");
    await current.a.waitForConnectionsClosed(2_000);
  });

  it("falls back on an error inside a 200 stream before any content, unseen by the client", async () => {
    const current = await start();
    current.a.setFaults([
      {
        kind: "error-in-stream",
        afterChunks: 0,
        error: { message: "Error handling AIML chat completion stream" },
      },
    ]);
    const { response, payloads } = await stream(current);
    expect(response.headers.get("x-g4f-provider")).toBe("amigo-b");
    expect(payloads.at(-1)).toBe("[DONE]");
    expect(payloads.join("\n")).not.toContain("AIML");
    expect(streamedText(payloads)).toBe("Hello from gpt-4o-mini!");
  });

  it("falls back on an empty answer", async () => {
    const current = await start();
    current.a.setFaults([{ kind: "empty" }]);
    const { body } = await chat(current);
    expect(body.provider).toBe("amigo-b");
  });

  it("does not fall back after content: the stream ends with an explicit error event", async () => {
    const current = await start();
    current.a.setFaults([{ kind: "error-in-stream", afterChunks: 2 }]);
    const { response, payloads } = await stream(current);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-provider")).toBe("amigo-a");
    expect(streamedText(payloads.slice(0, -2))).toBe("Hello fr");
    expect(payloads.at(-1)).toBe("[DONE]");
    const last = JSON.parse(payloads.at(-2) as string);
    expect(last.error).toMatchObject({ type: "upstream_error", code: "stream_interrupted" });
    expect(last.error.message).toContain("Internal error while streaming the response");
    expect(current.b.requests).toHaveLength(0);
  });

  it("does not fall back after content when the upstream cuts the stream either", async () => {
    const current = await start();
    current.a.setFaults([{ kind: "cut-after", chunks: 1 }]);
    const { payloads } = await stream(current);
    expect(streamedText(payloads.slice(0, -2))).toBe("Hell");
    expect(JSON.parse(payloads.at(-2) as string).error.code).toBe("stream_interrupted");
    expect(payloads.at(-1)).toBe("[DONE]");
    expect(current.b.requests).toHaveLength(0);
  });

  it("skips a provider in cooldown and tries it again once the cooldown ends", async () => {
    // Two clients (by API key): a cooldown for everyone needs failures from two.
    const current = await start({
      config: {
        server: { apiKeys: [{ env: "ALICE_KEY" }, { env: "BOB_KEY" }] },
        cooldown: { failureThreshold: 2, durationMs: 1_000 },
      },
      env: { ALICE_KEY: "alice-key", BOB_KEY: "bob-key" },
    });
    const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    const chatAs = async (key: string) =>
      readJson<ChatOrErrorBody>(
        await postJson(current.server, "/v1/chat/completions", question, as(key)),
      );
    current.a.setFaults([
      { kind: "status", status: 500 },
      { kind: "status", status: 502 },
    ]);
    expect((await chatAs("alice-key")).provider).toBe("amigo-b");
    expect((await chatAs("bob-key")).provider).toBe("amigo-b");
    expect(current.a.requests).toHaveLength(2);

    expect((await chatAs("alice-key")).provider).toBe("amigo-b");
    expect(current.a.requests).toHaveLength(2);
    const providers = await readJson<ProvidersBody>(
      await fetch(`${current.server.url}/v1/providers`, as("alice-key")),
    );
    expect(providers.data[0]?.health).toMatchObject({
      status: "cooling_down",
      consecutive_failures: 2,
    });
    const metrics = await (await fetch(`${current.server.url}/metrics`, as("alice-key"))).text();
    expect(metrics).toContain('g4f_provider_cooldown{provider="amigo-a"} 1');
    expect(metrics).toContain(
      'g4f_provider_failures_total{provider="amigo-a",reason="cooldown"} 1',
    );

    await sleep(1_050);
    expect((await chatAs("bob-key")).provider).toBe("amigo-a");
    expect(current.a.requests).toHaveLength(3);
    const after = await readJson<ProvidersBody>(
      await fetch(`${current.server.url}/v1/providers`, as("bob-key")),
    );
    expect(after.data[0]?.health).toMatchObject({ status: "ok", consecutive_failures: 0 });
  });

  it("pins a provider by body field, path and model prefix, and keeps ids with / and : whole", async () => {
    const ollama = scriptedProvider({ id: "ollama", chatModels: ["llama3:8b"] });
    const current = await start({ providers: [ollama] });
    expect((await chat(current, { provider: "amigo-b" })).body.provider).toBe("amigo-b");
    expect((await chat(current, { model: "amigo-b:gpt-4o-mini" })).body.provider).toBe("amigo-b");
    const byPath = await postJson(current.server, "/api/amigo-b/chat/completions", question);
    expect(byPath.headers.get("x-g4f-provider")).toBe("amigo-b");
    expect(current.a.requests).toHaveLength(0);

    const llama = await chat(current, { model: "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo" });
    expect(llama.body.provider).toBe("amigo-a");
    expect(current.a.requests[0]?.json).toMatchObject({
      model: "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
      personaId: "llama-three-point-one",
    });
    const pinnedLlama = await chat(current, {
      model: "amigo-b:meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
    });
    expect(pinnedLlama.body.provider).toBe("amigo-b");
    expect((await chat(current, { model: "llama3:8b" })).body).toMatchObject({
      provider: "ollama",
      model: "llama3:8b",
    });
    expect((await chat(current, { model: "ollama:llama3:8b" })).body.provider).toBe("ollama");
    const byName = await chat(current, { model: "amigo-b" });
    expect(byName.body).toMatchObject({ provider: "amigo-b", model: "gpt-4o-mini" });
  });

  it("answers 404 model_not_found when no provider serves the model", async () => {
    const current = await start();
    const { response, body } = await chat(current, { model: "gpt-5-ultra" });
    expect(response.status).toBe(404);
    expect(body.error.code).toBe("model_not_found");
    expect(current.a.requests).toHaveLength(0);
  });

  it("answers 429 when every provider was rate limited, then 503 while all cool down", async () => {
    const current = await start();
    // Cooldowns last the default 5 s, or the upstream's retry-after when longer.
    current.a.setFaults([{ kind: "status", status: 429, retryAfter: "8" }]);
    current.b.setFaults([{ kind: "status", status: 429, retryAfter: "12" }]);
    const limited = await chat(current);
    expect(limited.response.status).toBe(429);
    expect(limited.response.headers.get("x-should-retry")).toBe("false");
    expect(limited.response.headers.get("retry-after")).toBe("8");
    expect(limited.body.error.code).toBe("rate_limit_exceeded");
    expect(limited.body.error.attempts).toEqual([
      expect.objectContaining({ provider: "amigo-a", status: 429, reason: "rate_limit" }),
      expect.objectContaining({ provider: "amigo-b", status: 429, reason: "rate_limit" }),
    ]);

    const cooling = await chat(current);
    expect(cooling.response.status).toBe(503);
    expect(cooling.response.headers.get("x-should-retry")).toBe("false");
    expect(Number(cooling.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(7);
    expect(cooling.body.error.code).toBe("providers_cooling_down");
    expect(cooling.body.error.message).toMatch(/retry in \d+ s/);
    expect(current.a.requests).toHaveLength(1);
    expect(current.b.requests).toHaveLength(1);
  });

  it("answers 502 listing each attempt when every provider failed otherwise", async () => {
    const current = await start();
    current.a.setFaults([
      { kind: "status", status: 500, body: { message: "database on fire", statusCode: 500 } },
    ]);
    current.b.setFaults([{ kind: "drop" }]);
    const { response, body } = await chat(current);
    expect(response.status).toBe(502);
    expect(response.headers.get("x-should-retry")).toBe("false");
    expect(body.error).toMatchObject({ type: "upstream_error", code: "all_providers_failed" });
    expect(body.error.attempts).toEqual([
      expect.objectContaining({
        provider: "amigo-a",
        model: "gpt-4o-mini",
        status: 500,
        reason: "status",
      }),
      expect.objectContaining({ provider: "amigo-b", model: "gpt-4o-mini", status: null }),
    ]);
    expect(body.error.message).toContain("database on fire");
  });

  it("closes the upstream socket at once when the client disconnects mid-stream", async () => {
    const current = await start();
    current.a.setFaults([{ kind: "never-end", afterChunks: 1 }]);
    const controller = new AbortController();
    const response = await postJson(
      current.server,
      "/v1/chat/completions",
      { ...question, stream: true },
      { signal: controller.signal },
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("Hell");
    expect(current.a.openConnections()).toBe(1);
    const closed = current.a.nextConnectionClose(2_000);
    const abortedAt = Date.now();
    controller.abort();
    expect((await closed) - abortedAt).toBeLessThan(500);
    expect(current.b.requests).toHaveLength(0);
  });

  it("closes the upstream socket when the client leaves before the first chunk", async () => {
    const current = await start({ config: { routing: { timeouts: { firstChunkMs: 10_000 } } } });
    current.a.setFaults([{ kind: "never-end", afterChunks: 0 }]);
    const controller = new AbortController();
    const request = postJson(current.server, "/v1/chat/completions", question, {
      signal: controller.signal,
    });
    while (current.a.requests.length === 0) await sleep(10);
    const closed = current.a.nextConnectionClose(2_000);
    controller.abort();
    await expect(request).rejects.toThrow();
    await closed;
    expect(current.b.requests).toHaveLength(0);
  });

  it("lets a stream in flight finish on graceful shutdown, while /healthz answers 503 shutting_down", async () => {
    const current = await start({ fake: { chunkDelayMs: 60 } });
    const response = await postJson(current.server, "/v1/chat/completions", {
      ...question,
      stream: true,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const closing = current.server.close(5_000);
    const health = await fetch(`${current.server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { status: string }).status).toBe("shutting_down");
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain("data: [DONE]");
    await closing;
    expect(current.server.openRequests()).toBe(0);
  });

  it("ends a stream still open when the shutdown grace period runs out with an error event", async () => {
    const current = await start();
    current.a.setFaults([{ kind: "never-end", afterChunks: 1 }]);
    const response = await postJson(current.server, "/v1/chat/completions", {
      ...question,
      stream: true,
    });
    const text = response.text();
    while (current.server.openRequests() === 0 || current.a.requests.length === 0) await sleep(10);
    await sleep(50);
    await current.server.close(100);
    const payloads = sseData(await text);
    expect(payloads.at(-1)).toBe("[DONE]");
    expect(JSON.parse(payloads.at(-2) as string).error.code).toBe("server_shutting_down");
    await current.a.waitForConnectionsClosed(2_000);
  });
});
