import { AmigoChat } from "@g4f-ts/provider-amigochat";
import { closeDispatchers, type Provider } from "@g4f-ts/provider-core";
import {
  OpenAICompatible,
  providerPlugin as openAICompatiblePlugin,
} from "@g4f-ts/provider-openai-compatible";
import { startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { postJson } from "./__fixtures__/amigo-pair.js";
import {
  type ChatOrErrorBody,
  type ModelsBody,
  type ProvidersBody,
  readJson,
} from "./__fixtures__/http-bodies.js";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";
import type { ProviderEntry } from "./provider-set.js";
import { RouteTable } from "./route-table.js";
import { type RunningServer, startServer } from "./server.js";

const opened: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
  await closeDispatchers();
});

/**
 * A registry with one OpenAI-compatible provider "local" without a fixed model list,
 * on a local fake whose `GET /v1/models` lists `upstreamModels` as they are at each
 * request (the test changes the array in place to change the upstream's list).
 */
async function start(upstreamModels: string[], modelsTtlMs: number): Promise<RunningServer> {
  const upstream = await startOpenAICompatibleFake({ models: upstreamModels });
  opened.push(() => upstream.close());
  const server = await startServer({
    config: {
      logLevel: "silent",
      providers: [
        {
          id: "local",
          use: "openai-compatible",
          options: { baseUrl: `${upstream.url}/v1`, modelsTtlMs },
        },
      ],
    },
    discover: false,
    plugins: [openAICompatiblePlugin],
    port: 0,
    env: {},
  });
  opened.push(() => server.close(0));
  return server;
}

/** What `/v1/models`, `/v1/providers` and routing say of the registry's models now. */
async function modelViews(server: RunningServer, names: readonly string[]) {
  const models = await readJson<ModelsBody>(await fetch(`${server.url}/v1/models`));
  const providers = await readJson<ProvidersBody>(await fetch(`${server.url}/v1/providers`));
  const routed: Record<string, string> = {};
  for (const name of names) {
    const response = await postJson(server, "/v1/chat/completions", {
      model: name,
      messages: [{ role: "user", content: "Hi" }],
    });
    const body = await readJson<ChatOrErrorBody>(response);
    routed[name] =
      response.status === 200 ? body.provider : `${response.status} ${body.error.code}`;
  }
  return {
    models: models.data.map((model) => model.id),
    providers: providers.data.find((provider) => provider.id === "local")?.models,
    routed,
  };
}

describe("the registry's one model list", () => {
  it("routes, lists in /v1/models and shows in /v1/providers the same models after a provider refreshed its list", async () => {
    const upstreamModels = ["first-model"];
    const server = await start(upstreamModels, 60_000);
    expect(await modelViews(server, ["first-model", "second-model"])).toEqual({
      models: ["first-model"],
      providers: ["first-model"],
      routed: { "first-model": "local", "second-model": "404 model_not_found" },
    });

    upstreamModels.splice(0, upstreamModels.length, "second-model");
    await server.registry.entries[0]?.provider.refreshModels?.();

    expect(await modelViews(server, ["first-model", "second-model"])).toEqual({
      models: ["second-model"],
      providers: ["second-model"],
      routed: { "first-model": "404 model_not_found", "second-model": "local" },
    });
  });

  it("follows a list the provider refreshed on its own during a call, once its modelsTtlMs passed", async () => {
    const upstreamModels = ["first-model"];
    const server = await start(upstreamModels, 0);
    upstreamModels.push("second-model");
    // With a time to live of 0, the call refreshes the provider's list first.
    const response = await postJson(server, "/v1/chat/completions", {
      model: "first-model",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(response.status).toBe(200);

    expect(await modelViews(server, ["second-model"])).toEqual({
      models: ["first-model", "second-model"],
      providers: ["first-model", "second-model"],
      routed: { "second-model": "local" },
    });
  });
});

function entriesOf(providers: readonly Provider[]): ProviderEntry[] {
  return providers.map((provider, index) => ({
    id: `p${index}`,
    provider,
    priority: 0,
    enabled: true,
    order: index,
    source: "in-memory",
    timeouts: { firstChunkMs: 1000, idleMs: 1000, totalMs: 1000 },
    weight: 1,
  }));
}

function tableOf(providers: readonly Provider[]): RouteTable {
  return new RouteTable(entriesOf(providers), "priority", undefined, () => ({}));
}

describe("RouteTable's check of the lists of providers that do not report their changes", () => {
  const polledProviders = (count: number) =>
    Array.from({ length: count }, (_, index) =>
      scriptedProvider({ id: `p${index}`, chatModels: [`model-${index}`] }),
    );

  it("asks each provider for its lists once per turn of the event loop, however many requests it routes", async () => {
    const providers = polledProviders(50);
    const table = tableOf(providers);
    const asked = providers.map((provider) => vi.spyOn(provider, "getModels"));
    for (let request = 0; request < 100; request++) table.router();
    expect(asked.map((spy) => spy.mock.calls.length)).toEqual(providers.map(() => 1));
    await new Promise((resolve) => setImmediate(resolve));
    table.router();
    expect(asked.map((spy) => spy.mock.calls.length)).toEqual(providers.map(() => 2));
  });

  it("rebuilds its routes on the first request of the turn after a provider's list changed", async () => {
    const providers = polledProviders(2);
    const table = tableOf(providers);
    const before = table.router();
    vi.spyOn(providers[0] as Provider, "getModels").mockReturnValue(["renamed"]);
    // Within the turn that already compared the lists, the routes stay as they were.
    expect(table.router()).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    const after = table.router();
    expect(after).not.toBe(before);
    // And the new routes are kept while the lists stay the same.
    await new Promise((resolve) => setImmediate(resolve));
    expect(table.router()).toBe(after);
  });
});

describe("RouteTable and providers that report their changes (onModelsChange)", () => {
  it("never asks them for their lists on a request, however many there are", async () => {
    const providers = Array.from(
      { length: 50 },
      (_, index) =>
        new OpenAICompatible({
          id: `p${index}`,
          baseUrl: "http://127.0.0.1:9/v1",
          models: [`model-${index}`],
        }),
    );
    const table = tableOf(providers);
    const asked = providers.map((provider) => vi.spyOn(provider, "getModels"));
    const before = table.router();
    for (let request = 0; request < 100; request++) expect(table.router()).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect(table.router()).toBe(before);
    expect(asked.map((spy) => spy.mock.calls.length)).toEqual(providers.map(() => 0));
  });

  it("never asks AmigoChat, whose lists are its fixed table, for them on a request", async () => {
    const providers = [
      new AmigoChat({ id: "amigo-a", baseUrl: "http://127.0.0.1:9" }),
      new AmigoChat({ id: "amigo-b", baseUrl: "http://127.0.0.1:9" }),
    ];
    const table = tableOf(providers);
    const asked = providers.map((provider) => vi.spyOn(provider, "getModels"));
    const before = table.router();
    expect(before.listing.map((listing) => listing.name)).toContain("gpt-4o-mini");
    for (let request = 0; request < 10; request++) expect(table.router()).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect(table.router()).toBe(before);
    expect(asked.map((spy) => spy.mock.calls.length)).toEqual([0, 0]);
  });

  it("follows a change one reports on the very next request, and asks only then", async () => {
    const upstreamModels = ["first-model"];
    const upstream = await startOpenAICompatibleFake({ models: upstreamModels });
    opened.push(() => upstream.close());
    const reporting = new OpenAICompatible({ id: "local", baseUrl: `${upstream.url}/v1` });
    await reporting.refreshModels();
    const polled = scriptedProvider({ id: "other", chatModels: ["other-model"] });
    const table = tableOf([reporting, polled]);
    const before = table.router();
    expect(before.listing.map((listing) => listing.name)).toContain("first-model");
    upstreamModels.push("second-model");
    await reporting.refreshModels();
    // The first request after the report follows it.
    const after = table.router();
    expect(after).not.toBe(before);
    expect(after.listing.map((listing) => listing.name)).toContain("second-model");
    expect(table.router()).toBe(after);
  });
});
