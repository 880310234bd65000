import { ImageResponse, ResponseStatusError } from "@g4f-ts/provider-core";
import { afterEach, describe, expect, it } from "vitest";
import { type ErrorBody, type ProvidersBody, readJson } from "./__fixtures__/http-bodies.js";
import { type ScriptedProvider, scriptedProvider } from "./__fixtures__/scripted-provider.js";
import { startScriptedServer } from "./__fixtures__/scripted-server.js";
import type { RunningServer } from "./server.js";

/**
 * Cooldowns are kept per provider and model: a chat model that keeps failing does
 * not set aside the same provider's image models or its other chat models.
 */
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

/** One provider whose `broken-chat` model always answers 503 and whose other models work. */
function partlyBrokenProvider(): ScriptedProvider {
  return scriptedProvider({
    id: "alpha",
    chatModels: ["broken-chat", "good-chat"],
    imageModels: ["painter"],
    script: (call) => {
      if (call.model === "broken-chat")
        return [
          {
            fail: new ResponseStatusError({
              provider: "alpha",
              status: 503,
              retryable: true,
              message: "alpha: 503 Service Unavailable",
            }),
          },
        ];
      if (call.model === "painter")
        return [new ImageResponse(["http://127.0.0.1/cat.png"], "a cat")];
      return [`Hello from ${call.model}`];
    },
  });
}

async function serve(provider: ScriptedProvider): Promise<RunningServer> {
  const server = await startScriptedServer([provider], {
    cooldown: { failureThreshold: 1, minDistinctClients: 1 },
  });
  servers.push(server);
  return server;
}

function post(server: RunningServer, path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const chat = (model: string) => ({ model, messages: [{ role: "user", content: "Hi" }] });

describe("cooldown per provider and model", () => {
  it("keeps answering with a provider's other chat model and its image model while one of its chat models cools down", async () => {
    const provider = partlyBrokenProvider();
    const server = await serve(provider);
    expect((await post(server, "/v1/chat/completions", chat("broken-chat"))).status).toBe(502);
    const skipped = await post(server, "/v1/chat/completions", chat("broken-chat"));
    expect(skipped.status).toBe(503);
    expect((await readJson<ErrorBody>(skipped)).error.code).toBe("providers_cooling_down");
    expect(provider.calls.map((call) => call.model)).toEqual(["broken-chat"]);

    const other = await post(server, "/v1/chat/completions", chat("good-chat"));
    expect(other.status).toBe(200);
    const image = await post(server, "/v1/images/generations", {
      model: "painter",
      prompt: "a cat",
    });
    expect(image.status).toBe(200);
    expect(provider.calls.map((call) => call.model)).toEqual([
      "broken-chat",
      "good-chat",
      "painter",
    ]);
  });

  it("lists the provider as cooling down for the models that are, in /v1/providers and /metrics", async () => {
    const server = await serve(partlyBrokenProvider());
    await post(server, "/v1/chat/completions", chat("broken-chat"));
    await post(server, "/v1/chat/completions", chat("good-chat"));

    const { data } = await readJson<ProvidersBody>(await fetch(`${server.url}/v1/providers`));
    const health = data[0]?.health;
    expect(health).toMatchObject({
      status: "cooling_down",
      consecutive_failures: 1,
      successes: 1,
      failures: 1,
      last_error: "alpha: 503 Service Unavailable",
      cooling_down_models: ["broken-chat"],
    });
    expect(health?.cooldown_remaining_ms).toBeGreaterThan(4_000);
    expect(health?.cooldown_until).not.toBeNull();
    expect(health?.models).toEqual([
      {
        model: "broken-chat",
        status: "cooling_down",
        consecutive_failures: 1,
        cooldown_remaining_ms: health?.cooldown_remaining_ms,
        cooldown_until: health?.cooldown_until,
        clients_cooling_down: 0,
        successes: 0,
        failures: 1,
        last_error: "alpha: 503 Service Unavailable",
      },
      {
        model: "good-chat",
        status: "ok",
        consecutive_failures: 0,
        cooldown_remaining_ms: 0,
        cooldown_until: null,
        clients_cooling_down: 0,
        successes: 1,
        failures: 0,
        last_error: null,
      },
    ]);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('g4f_provider_cooldown{provider="alpha"} 1');
    expect(metrics).toContain('g4f_model_cooldown{provider="alpha",model="broken-chat"} 1');
    expect(metrics).toContain('g4f_model_cooldown{provider="alpha",model="good-chat"} 0');
    expect(metrics).toContain(
      'g4f_model_consecutive_failures{provider="alpha",model="broken-chat"} 1',
    );
  });

  it("lists a provider that was never used as ok with no models", async () => {
    const server = await serve(partlyBrokenProvider());
    const { data } = await readJson<ProvidersBody>(await fetch(`${server.url}/v1/providers`));
    expect(data[0]?.health).toEqual({
      status: "ok",
      consecutive_failures: 0,
      cooldown_remaining_ms: 0,
      cooldown_until: null,
      clients_cooling_down: 0,
      successes: 0,
      failures: 0,
      last_error: null,
      cooling_down_models: [],
      models: [],
    });
  });
});
