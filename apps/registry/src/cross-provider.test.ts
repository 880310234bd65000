import { closeDispatchers } from "@g4f-ts/provider-core";
import { providerPlugin as openAICompatiblePlugin } from "@g4f-ts/provider-openai-compatible";
import {
  type AmigoChatFake,
  closedPortUrl,
  type OpenAICompatibleFake,
  type RecordedRequest,
  startAmigoChatFake,
  startOpenAICompatibleFake,
} from "@g4f-ts/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { postJson, sseData, streamedText } from "./__fixtures__/amigo-pair.js";
import {
  type ChatOrErrorBody,
  type ModelBody,
  type ModelsBody,
  type ProvidersBody,
  readJson,
} from "./__fixtures__/http-bodies.js";
import type { RegistryConfigInput } from "./config.js";
import { createRegistry } from "./registry.js";
import { type RunningServer, startServer } from "./server.js";

/*
 * AmigoChat and OpenAI-compatible upstreams behind one registry, each a real
 * provider package on its own local fake: "amigo" (priority 5), "openai" (priority 0
 * unless a test raises it; key read by the provider itself through `apiKeyEnv` from
 * process.env) and "openai-b" (priority -5; key resolved by the registry from a
 * `{ "env": … }` reference in the environment handed to it). The two
 * OpenAI-compatible instances have no fixed model list: the registry fetches it at
 * start.
 */

const keyA = "sk-cross-provider-a";
const keyB = "sk-cross-provider-b";
/** Read by the provider itself (`apiKeyEnv`), so it has to be in process.env. */
const keyAVariable = "G4F_CROSS_PROVIDER_TEST_KEY_A";
/** Read by the registry (`{ "env": … }`), from the `env` it is given. */
const keyBVariable = "G4F_CROSS_PROVIDER_TEST_KEY_B";

interface CrossProviders {
  amigo: AmigoChatFake;
  openai: OpenAICompatibleFake;
  openaiB: OpenAICompatibleFake;
  server: RunningServer;
}

interface CrossProvidersOptions {
  /** The priority of "openai"; above 5 it comes before AmigoChat. */
  openaiPriority?: number;
  /** Replaces AmigoChat's base URL (e.g. a closed port). */
  amigoBaseUrl?: string;
}

const opened: (() => Promise<void>)[] = [];
const originalKeyA = process.env[keyAVariable];

afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
  await closeDispatchers();
  if (originalKeyA === undefined) delete process.env[keyAVariable];
  else process.env[keyAVariable] = originalKeyA;
});

/** A reply that names the upstream and the model it was asked for. */
function replyOf(upstream: string) {
  return (request: RecordedRequest) => `${upstream} answers ${modelOf(request)}`;
}

function modelOf(request: RecordedRequest | undefined): unknown {
  return (request?.json as { model?: unknown } | undefined)?.model;
}

function chatRequests(fake: { requests: RecordedRequest[] }): RecordedRequest[] {
  return fake.requests.filter((request) => request.path === "/v1/chat/completions");
}

async function start(options: CrossProvidersOptions = {}): Promise<CrossProviders> {
  const amigo = await startAmigoChatFake();
  opened.push(() => amigo.close());
  const openai = await startOpenAICompatibleFake({
    apiKey: keyA,
    models: ["gpt-4o-mini", "gpt-4o-2024-08-06", "qwen2.5-coder:7b"],
    reply: replyOf("upstream A"),
  });
  opened.push(() => openai.close());
  const openaiB = await startOpenAICompatibleFake({
    apiKey: keyB,
    models: ["gpt-4o-mini", "llama-3.3-70b"],
    reply: replyOf("upstream B"),
  });
  opened.push(() => openaiB.close());
  process.env[keyAVariable] = keyA;

  const oneAttempt = { retry: { maxAttempts: 1 }, timeouts: { connectMs: 1_000 } };
  const config: RegistryConfigInput = {
    discovery: { installed: false },
    logLevel: "silent",
    routing: { timeouts: { firstChunkMs: 2_000, idleMs: 2_000, totalMs: 10_000 } },
    providers: [
      {
        id: "amigo",
        use: "@g4f-ts/provider-amigochat",
        options: { baseUrl: options.amigoBaseUrl ?? amigo.url, ...oneAttempt },
        priority: 5,
      },
      {
        id: "openai",
        use: "@g4f-ts/provider-openai-compatible",
        options: {
          baseUrl: `${openai.url}/v1`,
          apiKeyEnv: keyAVariable,
          modelAliases: { "gpt-4o": "gpt-4o-2024-08-06" },
          ...oneAttempt,
        },
        priority: options.openaiPriority ?? 0,
      },
      {
        id: "openai-b",
        use: "@g4f-ts/provider-openai-compatible",
        options: { baseUrl: `${openaiB.url}/v1`, apiKey: { env: keyBVariable }, ...oneAttempt },
        priority: -5,
      },
    ],
  };
  const server = await startServer({ config, port: 0, env: { [keyBVariable]: keyB } });
  opened.push(() => server.close(0));
  expect(server.registry.problems).toEqual([]);
  return { amigo, openai, openaiB, server };
}

const question = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] };

async function chat(server: RunningServer, body: Record<string, unknown> = {}) {
  const response = await postJson(server, "/v1/chat/completions", { ...question, ...body });
  return { response, body: await readJson<ChatOrErrorBody>(response) };
}

async function stream(server: RunningServer, body: Record<string, unknown> = {}) {
  const response = await postJson(server, "/v1/chat/completions", {
    ...question,
    ...body,
    stream: true,
  });
  const payloads = sseData(await response.text());
  const first = JSON.parse(payloads[0] ?? "{}") as { provider?: string; model?: string };
  return { response, payloads, first };
}

describe("fallback between AmigoChat and an OpenAI-compatible upstream", () => {
  it("falls back from AmigoChat answering 503 to the OpenAI-compatible upstream, which gets its key", async () => {
    const { amigo, openai, openaiB, server } = await start();
    amigo.setFaults([{ kind: "status", status: 503 }]);
    const { response, body } = await chat(server);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-provider")).toBe("openai");
    expect(body).toMatchObject({ provider: "openai", model: "gpt-4o-mini" });
    expect(body.choices[0]?.message.content).toBe("upstream A answers gpt-4o-mini");

    expect(amigo.requests).toHaveLength(1);
    expect(amigo.requests[0]?.json).toMatchObject({
      model: "gpt-4o-mini",
      personaId: "amigo",
      messages: [{ role: "user", content: "Hi" }],
    });
    const [sent] = chatRequests(openai);
    expect(chatRequests(openai)).toHaveLength(1);
    expect(sent?.headers.authorization).toBe(`Bearer ${keyA}`);
    expect(sent?.json).toMatchObject({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(chatRequests(openaiB)).toHaveLength(0);
  });

  it("falls back from AmigoChat refusing the connection, streamed", async () => {
    const { openai, server } = await start({ amigoBaseUrl: await closedPortUrl() });
    const { response, payloads, first } = await stream(server);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-provider")).toBe("openai");
    expect(first).toMatchObject({ provider: "openai", model: "gpt-4o-mini" });
    expect(streamedText(payloads)).toBe("upstream A answers gpt-4o-mini");
    expect(payloads.at(-1)).toBe("[DONE]");
    expect(chatRequests(openai)[0]?.headers.authorization).toBe(`Bearer ${keyA}`);
  });

  it("tries the OpenAI-compatible upstream first when its priority is higher, and falls back to AmigoChat", async () => {
    const { amigo, openai, server } = await start({ openaiPriority: 10 });
    openai.setFaults([{ kind: "status", status: 503 }]);
    const streamed = await stream(server);
    expect(streamed.response.headers.get("x-g4f-provider")).toBe("amigo");
    expect(streamed.first.provider).toBe("amigo");
    expect(streamedText(streamed.payloads)).toBe("Hello from gpt-4o-mini!");
    expect(chatRequests(openai)[0]?.headers.authorization).toBe(`Bearer ${keyA}`);
    expect(amigo.requests[0]?.json).toMatchObject({
      model: "gpt-4o-mini",
      personaId: "amigo",
      stream: true,
    });

    const whole = await chat(server);
    expect(whole.response.headers.get("x-g4f-provider")).toBe("openai");
    expect(whole.body.choices[0]?.message.content).toBe("upstream A answers gpt-4o-mini");
    expect(amigo.requests).toHaveLength(1);
    expect(chatRequests(openai)).toHaveLength(2);
  });

  it("falls back from an OpenAI-compatible upstream refusing the connection to AmigoChat", async () => {
    const { amigo, openai, server } = await start({ openaiPriority: 10 });
    await openai.close();
    const { response, body } = await chat(server);
    expect(response.headers.get("x-g4f-provider")).toBe("amigo");
    expect(body.choices[0]?.message.content).toBe("Hello from gpt-4o-mini!");
    expect(amigo.requests).toHaveLength(1);
  });

  it("resolves an alias both providers serve to each provider's own model id", async () => {
    const { amigo, openai, server } = await start();
    const listing = await readJson<ModelBody>(await fetch(`${server.url}/v1/models/gpt-4o`));
    expect(listing).toMatchObject({
      id: "gpt-4o",
      owned_by: "amigo",
      providers: ["amigo", "openai"],
    });

    amigo.setFaults([{ kind: "status", status: 503 }]);
    const { response, body } = await chat(server, { model: "gpt-4o" });
    expect(response.headers.get("x-g4f-provider")).toBe("openai");
    expect(body.model).toBe("gpt-4o-2024-08-06");
    expect(body.choices[0]?.message.content).toBe("upstream A answers gpt-4o-2024-08-06");
    expect(amigo.requests[0]?.json).toMatchObject({ model: "gpt-4o-2024-11-20", personaId: "gpt" });
    expect(modelOf(chatRequests(openai)[0])).toBe("gpt-4o-2024-08-06");

    const { first, payloads } = await stream(server, { model: "gpt-4o" });
    expect(first).toMatchObject({ provider: "amigo", model: "gpt-4o-2024-11-20" });
    expect(streamedText(payloads)).toBe("Hello from gpt-4o-2024-11-20!");
  });

  it("keeps two OpenAI-compatible instances apart: each its own upstream, key and models", async () => {
    const { amigo, openai, openaiB, server } = await start();
    const llama = await chat(server, { model: "llama-3.3-70b" });
    expect(llama.body).toMatchObject({ provider: "openai-b", model: "llama-3.3-70b" });
    const pinned = await stream(server, { model: "openai-b:gpt-4o-mini" });
    expect(pinned.first.provider).toBe("openai-b");
    expect(streamedText(pinned.payloads)).toBe("upstream B answers gpt-4o-mini");
    expect(chatRequests(openai)).toHaveLength(0);

    amigo.setFaults([{ kind: "status", status: 502 }]);
    openai.setFaults([{ kind: "status", status: 500 }]);
    const fallback = await chat(server);
    expect(fallback.response.headers.get("x-g4f-provider")).toBe("openai-b");
    expect(fallback.body.choices[0]?.message.content).toBe("upstream B answers gpt-4o-mini");
    expect(chatRequests(openai)).toHaveLength(1);
    expect(chatRequests(openaiB)).toHaveLength(3);

    // The fakes answer 401 to any other key: each instance only ever sent its own.
    const keysSent = (fake: OpenAICompatibleFake) =>
      new Set(fake.requests.map((request) => request.headers.authorization));
    expect(keysSent(openai)).toEqual(new Set([`Bearer ${keyA}`]));
    expect(keysSent(openaiB)).toEqual(new Set([`Bearer ${keyB}`]));

    const providers = await readJson<ProvidersBody>(await fetch(`${server.url}/v1/providers`));
    expect(
      providers.data.map(({ id, source, needs_auth }) => ({ id, source, needs_auth })),
    ).toEqual([
      { id: "amigo", source: "@g4f-ts/provider-amigochat", needs_auth: false },
      { id: "openai", source: "@g4f-ts/provider-openai-compatible", needs_auth: true },
      { id: "openai-b", source: "@g4f-ts/provider-openai-compatible", needs_auth: true },
    ]);
    expect(JSON.stringify(providers)).not.toContain(keyA);
    expect(JSON.stringify(providers)).not.toContain(keyB);
  });

  it("fetches the OpenAI-compatible model lists at start, then routes and lists those models", async () => {
    const { openai, openaiB, server } = await start();
    for (const [fake, key] of [
      [openai, keyA],
      [openaiB, keyB],
    ] as const) {
      expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
        "GET /v1/models",
      ]);
      expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${key}`);
    }

    const models = await readJson<ModelsBody>(await fetch(`${server.url}/v1/models`));
    const providersOf = (name: string) => models.data.find((model) => model.id === name)?.providers;
    expect(providersOf("gpt-4o-mini")).toEqual(["amigo", "openai", "openai-b"]);
    expect(providersOf("gpt-4o")).toEqual(["amigo", "openai"]);
    expect(providersOf("gpt-4o-2024-08-06")).toEqual(["openai"]);
    expect(providersOf("qwen2.5-coder:7b")).toEqual(["openai"]);
    expect(providersOf("llama-3.3-70b")).toEqual(["openai-b"]);
    const own = await readJson<ModelsBody>(await fetch(`${server.url}/api/openai/models`));
    expect(own.data.map((model) => model.id)).toEqual([
      "gpt-4o-mini",
      "gpt-4o-2024-08-06",
      "qwen2.5-coder:7b",
      "gpt-4o",
    ]);

    const { response, payloads, first } = await stream(server, { model: "qwen2.5-coder:7b" });
    expect(response.headers.get("x-g4f-provider")).toBe("openai");
    expect(first.model).toBe("qwen2.5-coder:7b");
    expect(streamedText(payloads)).toBe("upstream A answers qwen2.5-coder:7b");
    const whole = await chat(server, { model: "llama-3.3-70b" });
    expect(whole.body.choices[0]?.message.content).toBe("upstream B answers llama-3.3-70b");
    // The lists stay fresh for the calls: nothing is fetched again.
    expect(openai.requests.filter((request) => request.path === "/v1/models")).toHaveLength(1);
  });
});

describe("a provider plugin that requires options", () => {
  it("is not instantiated when discovered without a config entry, and no problem is reported", async () => {
    const registry = await createRegistry({ config: { logLevel: "silent" }, env: {} });
    expect(registry.entries.map((entry) => entry.source)).not.toContain(
      "@g4f-ts/provider-openai-compatible",
    );
    expect(registry.entries.map((entry) => entry.id)).toContain("amigochat");
    expect(registry.problems).toEqual([]);

    const injected = await createRegistry({
      discover: false,
      plugins: [openAICompatiblePlugin],
      env: {},
    });
    expect(injected.entries).toEqual([]);
    expect(injected.problems).toEqual([]);
  });

  it("makes an instance for each config entry that names it by plugin name", async () => {
    const upstream = await startOpenAICompatibleFake({ models: ["local-model"] });
    opened.push(() => upstream.close());
    const server = await startServer({
      config: {
        logLevel: "silent",
        providers: [
          { id: "local", use: "openai-compatible", options: { baseUrl: `${upstream.url}/v1` } },
        ],
      },
      port: 0,
      env: {},
    });
    opened.push(() => server.close(0));
    expect(server.registry.problems).toEqual([]);
    expect(server.registry.entries.map((entry) => entry.id)).not.toContain("openai-compatible");
    const { response, body } = await chat(server, { model: "local-model" });
    expect(response.headers.get("x-g4f-provider")).toBe("local");
    expect(body.choices[0]?.message.content).toBe("Hello from local-model!");
  });
});
