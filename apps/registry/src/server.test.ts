import { request as httpRequest, type IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CallControl,
  callControlKey,
  FinishReason,
  ImageResponse,
  ResponseStatusError,
  Usage,
} from "@g4f-ts/provider-core";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ChatBody,
  type ErrorBody,
  type ModelBody,
  type ModelsBody,
  type ProvidersBody,
  readJson,
} from "./__fixtures__/http-bodies.js";
import { type ScriptedProvider, scriptedProvider } from "./__fixtures__/scripted-provider.js";
import { type ScriptedServerOptions, startScriptedServer } from "./__fixtures__/scripted-server.js";
import type { RegistryConfigInput } from "./config.js";
import type { RunningServer } from "./server.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

async function serve(
  providers: ScriptedProvider[],
  config: RegistryConfigInput = {},
  options: ScriptedServerOptions = {},
) {
  const server = await startScriptedServer(providers, config, options);
  servers.push(server);
  return server;
}

function post(
  server: RunningServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const hello = { model: "test-model", messages: [{ role: "user", content: "Hi" }] };

describe("the HTTP API", () => {
  it("answers a chat completion as JSON, naming the provider in a header and a field", async () => {
    const provider = scriptedProvider({
      id: "alpha",
      script: [
        [
          "Hello",
          ", world",
          new FinishReason("stop"),
          new Usage({ promptTokens: 5, completionTokens: 3 }),
        ],
      ],
    });
    const server = await serve([provider]);
    const response = await post(server, "/v1/chat/completions", {
      ...hello,
      max_tokens: 64,
      temperature: 0.3,
      top_p: 0.9,
      frequency_penalty: 0.1,
      presence_penalty: -0.2,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-provider")).toBe("alpha");
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const body = await readJson<ChatBody>(response);
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "test-model",
      provider: "alpha",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello, world" },
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    // The attempt's CallControl, and its signal for providers that read only that.
    const { signal, [callControlKey]: control, ...options } = provider.calls[0]?.options ?? {};
    expect(control).toBeInstanceOf(CallControl);
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(options).toEqual({
      stream: true,
      maxTokens: 64,
      temperature: 0.3,
      topP: 0.9,
      frequencyPenalty: 0.1,
      presencePenalty: -0.2,
    });
  });

  it("streams SSE chunks, the finish reason, the usage when asked, then [DONE]", async () => {
    const provider = scriptedProvider({
      id: "alpha",
      script: [["Hel", "lo", new FinishReason("length")]],
    });
    const server = await serve([provider]);
    const response = await post(server, "/v1/chat/completions", {
      ...hello,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("x-g4f-provider")).toBe("alpha");
    const events = (await response.text()).split("\n\n").filter((event) => event !== "");
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice("data: ".length)));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta ?? null)).toEqual([
      { role: "assistant", content: "Hel" },
      { content: "lo" },
      {},
      null,
    ]);
    expect(chunks[2].choices[0].finish_reason).toBe("length");
    expect(chunks[3]).toMatchObject({ choices: [], usage: { completion_tokens: 2 } });
    for (const chunk of chunks)
      expect(chunk).toMatchObject({
        id: chunks[0].id,
        object: "chat.completion.chunk",
        model: "test-model",
      });
  });

  it("keeps backpressure: a client that stops reading stops the provider too", async () => {
    const piece = "x".repeat(1_000);
    const total = 20_000;
    const provider = scriptedProvider({
      id: "alpha",
      script: () => Array.from({ length: total }, () => piece),
    });
    const server = await serve([provider]);
    const body = JSON.stringify({ ...hello, stream: true });
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpRequest(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      request.once("response", resolve).once("error", reject).end(body);
    });
    await new Promise((resolve) => response.once("data", resolve));
    response.pause();
    await sleep(300);
    // About 20 MB of answer; only what fits in the socket buffers may have been produced.
    expect(provider.yieldedChunks).toBeLessThan(total / 2);
    let text = "";
    response.setEncoding("utf8");
    response.on("data", (data: string) => {
      text = (text + data).slice(-100);
    });
    response.resume();
    await new Promise((resolve) => response.once("end", resolve));
    expect(provider.yieldedChunks).toBe(total);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("ends a stream that fails after its first content with an explicit error event", async () => {
    const broken = new ResponseStatusError({
      provider: "alpha",
      status: 500,
      retryable: true,
      message: "upstream broke",
    });
    const alpha = scriptedProvider({ id: "alpha", script: [["Hel", { fail: broken }]] });
    const beta = scriptedProvider({ id: "beta" });
    const server = await serve([alpha, beta]);
    const response = await post(server, "/v1/chat/completions", { ...hello, stream: true });
    const events = (await response.text()).split("\n\n").filter((event) => event !== "");
    expect(events).toHaveLength(3);
    expect(events[2]).toBe("data: [DONE]");
    const error = JSON.parse((events[1] as string).slice("data: ".length));
    expect(error.error).toMatchObject({ type: "upstream_error", code: "stream_interrupted" });
    expect(error.error.message).toContain("upstream broke");
    expect(beta.calls).toHaveLength(0);
  });

  it("writes images a chat answer carries into its text as g4f does, numbered when there are several", async () => {
    const alpha = scriptedProvider({
      id: "alpha",
      script: [
        [
          "Here: ",
          new ImageResponse(["http://127.0.0.1/1.png", "http://127.0.0.1/2.png"], "a cat"),
        ],
      ],
    });
    const server = await serve([alpha]);
    const body = (await (await post(server, "/v1/chat/completions", hello)).json()) as {
      choices: { message: { content: string } }[];
    };
    expect(body.choices[0]?.message.content).toBe(
      "Here: [![#1 a cat](http://127.0.0.1/1.png)](http://127.0.0.1/1.png)\n[![#2 a cat](http://127.0.0.1/2.png)](http://127.0.0.1/2.png)",
    );
  });

  it("lists every model name, aliases included, with its owner", async () => {
    const alpha = scriptedProvider({
      id: "alpha",
      chatModels: ["a-1"],
      modelAliases: { a: "a-1" },
    });
    const beta = scriptedProvider({ id: "beta", chatModels: ["a-1", "b-1"], imageModels: ["img"] });
    const server = await serve([alpha, beta]);
    const body = await readJson<ModelsBody>(await fetch(`${server.url}/v1/models`));
    expect(body.object).toBe("list");
    expect(body.data.map((model) => `${model.id}@${model.owned_by}`)).toEqual([
      "a-1@alpha",
      "a@alpha",
      "b-1@beta",
      "img@beta",
    ]);
    expect(body.data[0]).toMatchObject({
      object: "model",
      providers: ["alpha", "beta"],
      type: "chat",
    });
    const one = await readJson<ModelBody>(await fetch(`${server.url}/v1/models/img`));
    expect(one).toMatchObject({ id: "img", owned_by: "beta", type: "image" });
  });

  it("describes the providers with their health", async () => {
    const failing = new ResponseStatusError({
      provider: "alpha",
      status: 503,
      retryable: true,
      message: "down",
    });
    const alpha = scriptedProvider({ id: "alpha", script: [[{ fail: failing }]] });
    const beta = scriptedProvider({ id: "beta", working: false });
    // One client here: minDistinctClients 1 lets its failure cool the provider down for all.
    const server = await serve([alpha, beta], {
      cooldown: { failureThreshold: 1, minDistinctClients: 1 },
    });
    await post(server, "/v1/chat/completions", hello);
    const body = await readJson<ProvidersBody>(await fetch(`${server.url}/v1/providers`));
    expect(body.data).toHaveLength(2);
    expect(body.data[0]).toMatchObject({
      id: "alpha",
      label: "alpha",
      enabled: true,
      working: true,
      models: ["test-model"],
      health: { status: "cooling_down", consecutive_failures: 1, failures: 1, last_error: "down" },
    });
    expect(body.data[0]?.health.cooldown_remaining_ms).toBeGreaterThan(0);
    expect(body.data[1]).toMatchObject({
      id: "beta",
      enabled: false,
      working: false,
      health: { status: "disabled" },
    });
  });

  it("answers health checks", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", providers: 1, enabled: 1 });
  });

  it("exposes Prometheus metrics: requests, attempts, fallbacks, failures, latencies", async () => {
    const failing = new ResponseStatusError({
      provider: "alpha",
      status: 502,
      retryable: true,
      message: "bad gateway",
    });
    const alpha = scriptedProvider({ id: "alpha", script: [[{ fail: failing }]] });
    const beta = scriptedProvider({ id: "beta" });
    const server = await serve([alpha, beta]);
    await post(server, "/v1/chat/completions", hello);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await response.text();
    expect(text).toContain('g4f_requests_total{route="chat",status="200"} 1');
    expect(text).toContain('g4f_attempts_total{provider="alpha",outcome="failure"} 1');
    expect(text).toContain('g4f_attempts_total{provider="beta",outcome="success"} 1');
    expect(text).toContain('g4f_fallbacks_total{provider="alpha"} 1');
    expect(text).toContain('g4f_provider_failures_total{provider="alpha",reason="status"} 1');
    expect(text).toContain('g4f_request_duration_seconds_bucket{route="chat",le="+Inf"} 1');
    expect(text).toContain('g4f_time_to_first_content_seconds_count{provider="beta"} 1');
    expect(text).toContain('g4f_provider_cooldown{provider="alpha"} 0');
    expect(text).toContain("# TYPE g4f_attempt_duration_seconds histogram");
  });

  it("pins a provider by the body field and by the /api/<provider>/ path", async () => {
    const alpha = scriptedProvider({ id: "alpha" });
    const beta = scriptedProvider({ id: "beta" });
    const server = await serve([alpha, beta]);
    const byField = await post(server, "/v1/chat/completions", { ...hello, provider: "beta" });
    expect(byField.headers.get("x-g4f-provider")).toBe("beta");
    const byPath = await post(server, "/api/beta/chat/completions", hello);
    expect((await readJson<ChatBody>(byPath)).choices[0]?.message.content).toBe("Hello from beta");
    const byPrefix = await post(server, "/v1/chat/completions", {
      ...hello,
      model: "beta:test-model",
    });
    expect(byPrefix.headers.get("x-g4f-provider")).toBe("beta");
    expect(alpha.calls).toHaveLength(0);
  });

  it("pins a provider by g4f's name in the /api/<provider>/ path and the provider field", async () => {
    const alpha = scriptedProvider({ id: "alpha" });
    const amigo = scriptedProvider({ id: "amigochat", label: "AmigoChat" });
    const server = await serve([alpha, amigo]);
    const byPath = await post(server, "/api/AmigoChat/chat/completions", hello);
    expect(byPath.headers.get("x-g4f-provider")).toBe("amigochat");
    const models = await fetch(`${server.url}/api/AmigoChat/models`);
    expect(models.status).toBe(200);
    const byList = await post(server, "/v1/chat/completions", {
      ...hello,
      provider: "AmigoChat alpha",
    });
    expect(byList.headers.get("x-g4f-provider")).toBe("amigochat");
    expect(alpha.calls).toHaveLength(0);
  });
});

describe("HTTP errors", () => {
  it("answers an unknown route with 404 in OpenAI's shape", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const response = await fetch(`${server.url}/v2/nothing`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        message: expect.stringMatching(
          /^Unknown route: GET \/v2\/nothing\. This server answers POST \/v1\/chat\/completions, POST \/v1\/responses, .*POST \/v1\/embeddings/,
        ),
        type: "invalid_request_error",
        param: null,
        code: "not_found",
      },
    });
  });

  it("answers a wrong method with 405 and the allowed one", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const response = await fetch(`${server.url}/v1/chat/completions`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect((await readJson<ErrorBody>(response)).error.code).toBe("method_not_allowed");
  });

  it("answers bad JSON with 400", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const response = await post(server, "/v1/chat/completions", "{not json");
    expect(response.status).toBe(400);
    expect((await readJson<ErrorBody>(response)).error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_json",
    });
  });

  it("answers a schema violation with 400 naming the field", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const response = await post(server, "/v1/chat/completions", {
      model: "test-model",
      messages: [{ role: "robot", content: "Hi" }],
    });
    expect(response.status).toBe(400);
    const { error } = await readJson<ErrorBody>(response);
    expect(error.param).toBe("messages.0.role");
    expect(error.message).toContain("messages.0.role");
    const badTemperature = await post(server, "/v1/chat/completions", { ...hello, temperature: 9 });
    expect((await readJson<ErrorBody>(badTemperature)).error.param).toBe("temperature");
  });

  it("answers a body over the limit with 413", async () => {
    const provider = scriptedProvider({ id: "alpha" });
    const server = await serve([provider], { server: { bodyLimitBytes: 1024 } });
    const response = await post(server, "/v1/chat/completions", {
      ...hello,
      messages: [{ role: "user", content: "x".repeat(4096) }],
    });
    expect(response.status).toBe(413);
    expect((await readJson<ErrorBody>(response)).error.code).toBe("request_too_large");
    // Without a content-length the limit holds while reading.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 64; index++)
          controller.enqueue(new TextEncoder().encode("x".repeat(1000)));
        controller.close();
      },
    });
    const streamed = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(provider.calls).toHaveLength(0);
  });

  it("refuses a request that tries to set an upstream proxy or base URL", async () => {
    const provider = scriptedProvider({ id: "alpha" });
    const server = await serve([provider]);
    for (const field of ["proxy", "base_url", "api_base"]) {
      const response = await post(server, "/v1/chat/completions", {
        ...hello,
        [field]: "http://127.0.0.1:9",
      });
      expect(response.status).toBe(400);
      expect((await readJson<ErrorBody>(response)).error.param).toBe(field);
    }
    expect(provider.calls).toHaveLength(0);
  });

  it("answers 404 model_not_found when no provider serves the model", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const response = await post(server, "/v1/chat/completions", {
      ...hello,
      model: "no-such-model",
    });
    expect(response.status).toBe(404);
    expect((await readJson<ErrorBody>(response)).error).toMatchObject({
      code: "model_not_found",
      param: "model",
    });
  });

  it("requires an API key when keys are configured, by bearer token or g4f-api-key", async () => {
    const server = await serve(
      [scriptedProvider({ id: "alpha" })],
      { server: { apiKeys: [{ env: "KEY_ONE" }] } },
      {
        env: { KEY_ONE: "secret-one", G4F_API_KEY: "secret-two" },
      },
    );
    const missing = await post(server, "/v1/chat/completions", hello);
    expect(missing.status).toBe(401);
    expect((await readJson<ErrorBody>(missing)).error).toMatchObject({
      type: "authentication_error",
      code: "invalid_api_key",
    });
    const wrong = await post(server, "/v1/chat/completions", hello, {
      authorization: "Bearer secret-nope",
    });
    expect(wrong.status).toBe(401);
    const bearer = await post(server, "/v1/chat/completions", hello, {
      authorization: "Bearer secret-one",
    });
    expect(bearer.status).toBe(200);
    const g4fHeader = await post(server, "/v1/chat/completions", hello, {
      "g4f-api-key": "secret-two",
    });
    expect(g4fHeader.status).toBe(200);
    const models = await fetch(`${server.url}/v1/models`);
    expect(models.status).toBe(401);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("never writes the API key or authorization header into a log line", async () => {
    const logLines: string[] = [];
    const failing = new ResponseStatusError({
      provider: "alpha",
      status: 503,
      retryable: true,
      message: "down",
    });
    const server = await serve(
      [
        scriptedProvider({ id: "alpha", script: [[{ fail: failing }]] }),
        scriptedProvider({ id: "beta" }),
      ],
      {},
      { env: { G4F_API_KEY: "sk-very-secret-key" }, logLines },
    );
    await post(server, "/v1/chat/completions?api_key=sk-very-secret-key", hello, {
      authorization: "Bearer sk-very-secret-key",
      "x-request-id": "req-42",
    });
    await post(server, "/v1/chat/completions", hello, { authorization: "Bearer sk-wrong-key" });
    const log = logLines.join("");
    expect(log).toContain('"requestId":"req-42"');
    expect(log).toContain('"msg":"attempt failed"');
    expect(log).not.toContain("sk-very-secret-key");
    expect(log).not.toContain("sk-wrong-key");
    expect(log.toLowerCase()).not.toContain("bearer");
  });
});

/** The header names of an answer, in the order they were written, and its status. */
function rawHead(
  server: RunningServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; names: string[] }> {
  return new Promise((resolve, reject) => {
    const sent = JSON.stringify(body);
    const request = httpRequest(
      `${server.url}${path}`,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(sent),
          ...headers,
        },
      },
      (response: IncomingMessage) => {
        const names = response.rawHeaders.filter((_, index) => index % 2 === 0);
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode ?? 0, names }));
      },
    );
    request.on("error", reject);
    request.end(sent);
  });
}

describe("the head of a chat answer", () => {
  const jsonHead = ["x-request-id", "content-type", "content-length", "x-g4f-provider"];
  const streamHead = [
    "x-request-id",
    "content-type",
    "cache-control",
    "x-accel-buffering",
    "x-g4f-provider",
  ];

  it("writes x-request-id first on a JSON answer, a streamed one and an error, as on every other answer", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const json = await rawHead(server, "/v1/chat/completions", hello);
    expect(json.status).toBe(200);
    expect(json.names.slice(0, 4)).toEqual(jsonHead);
    const stream = await rawHead(server, "/v1/chat/completions", { ...hello, stream: true });
    expect(stream.status).toBe(200);
    expect(stream.names.slice(0, 5)).toEqual(streamHead);
    const missing = await rawHead(server, "/v1/chat/completions", { ...hello, model: "nope" });
    expect(missing.status).toBe(404);
    expect(missing.names.slice(0, 3)).toEqual(["x-request-id", "content-type", "content-length"]);
    const pinned = await rawHead(server, "/api/alpha/chat/completions", hello);
    expect(pinned.names.slice(0, 4)).toEqual(jsonHead);
    const embeddings = await rawHead(server, "/v1/embeddings", { model: "x", input: "a" });
    expect(embeddings.names[0]).toBe("x-request-id");
  });

  it("writes the same head where headers are set before the answer (CORS on)", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], {
      server: { corsOrigins: ["https://app.example"] },
    });
    const origin = { origin: "https://app.example" };
    const json = await rawHead(server, "/v1/chat/completions", hello, origin);
    expect(
      json.names
        .filter((name) => !name.startsWith("access-control") && name !== "vary")
        .slice(0, 4),
    ).toEqual(jsonHead);
    expect(json.names[0]).toBe("x-request-id");
    const stream = await rawHead(
      server,
      "/v1/chat/completions",
      { ...hello, stream: true },
      origin,
    );
    expect(
      stream.names
        .filter((name) => !name.startsWith("access-control") && name !== "vary")
        .slice(0, 5),
    ).toEqual(streamHead);
  });
});
