import { type OpenAICompatibleFake, startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { seededRandom } from "../test-support/seeded-random.js";
import type { ProvidersBody } from "./__fixtures__/http-bodies.js";
import type { RegistryConfigInput } from "./config.js";
import { type RunningServer, startServer } from "./server.js";

/** Each strategy over three fake OpenAI-compatible upstreams (`a`, `b`, `c`) of one model. */
let server: RunningServer | undefined;
const upstreams: OpenAICompatibleFake[] = [];
afterEach(async () => {
  await server?.close(0);
  server = undefined;
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
});

async function start(
  routing: RegistryConfigInput["routing"],
  weights: Record<string, number> = {},
  options: { chunkDelayMs?: number; random?: () => number } = {},
): Promise<{ server: RunningServer; fakes: Record<string, OpenAICompatibleFake> }> {
  const fakes: Record<string, OpenAICompatibleFake> = {};
  for (const id of ["a", "b", "c"]) {
    const fake = await startOpenAICompatibleFake({
      models: ["spread-model"],
      ...(options.chunkDelayMs === undefined ? {} : { chunkDelayMs: options.chunkDelayMs }),
    });
    upstreams.push(fake);
    fakes[id] = fake;
  }
  server = await startServer({
    discover: false,
    port: 0,
    env: {},
    ...(options.random === undefined ? {} : { random: options.random }),
    config: {
      routing,
      providers: Object.entries(fakes).map(([id, fake]) => ({
        id,
        use: "@g4f-ts/provider-openai-compatible",
        ...(weights[id] === undefined ? {} : { weight: weights[id] }),
        options: { baseUrl: `${fake.url}/v1`, models: ["spread-model"], retry: { maxAttempts: 1 } },
      })),
    },
  });
  return { server, fakes };
}

function chat(target: RunningServer, stream = false): Promise<Response> {
  return fetch(`${target.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "spread-model",
      stream,
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
}

/** Send `count` requests one after the other; the providers that answered, in order. */
async function answeredBy(target: RunningServer, count: number): Promise<string[]> {
  const providers: string[] = [];
  for (let index = 0; index < count; index++) {
    const response = await chat(target);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    providers.push(response.headers.get("x-g4f-provider") ?? "");
  }
  return providers;
}

function tally(providers: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (const provider of providers) counts[provider] = (counts[provider] ?? 0) + 1;
  return counts;
}

describe("routing strategies over three upstreams", () => {
  it("sends everything to the first upstream under priority", async () => {
    const { server } = await start({ strategy: "priority" });
    expect(tally(await answeredBy(server, 6))).toEqual({ a: 6, b: 0, c: 0 });
  });

  it("takes the upstreams in turn under round-robin, and shows the strategy in /v1/providers", async () => {
    const { server, fakes } = await start({ strategy: "round-robin" });
    expect(await answeredBy(server, 6)).toEqual(["a", "b", "c", "a", "b", "c"]);
    expect(fakes.b?.requests).toHaveLength(2);
    const body = (await (await fetch(`${server.url}/v1/providers`)).json()) as ProvidersBody & {
      routing: { strategy: string };
    };
    expect(body.routing).toEqual({ strategy: "round-robin", models: {}, latency_exploration: 0.1 });
  });

  it("falls back in turn too under round-robin: a failing upstream's requests go to the next", async () => {
    const { server, fakes } = await start({ strategy: "round-robin" });
    fakes.b?.setFaults(() => ({ kind: "status", status: 503 }));
    expect(await answeredBy(server, 3)).toEqual(["a", "c", "c"]);
  });

  it("spreads by the weights under weighted, and never first to a weight of 0", async () => {
    const { server } = await start(
      { strategy: "weighted" },
      { a: 0, b: 1, c: 3 },
      {
        random: seededRandom(7),
      },
    );
    const counts = tally(await answeredBy(server, 40));
    const listed = (await (await fetch(`${server.url}/v1/providers`)).json()) as ProvidersBody;
    expect(listed.data.map((provider) => provider.weight)).toEqual([0, 1, 3]);
    expect(counts.a).toBe(0);
    expect(counts.c).toBeGreaterThan(counts.b as number);
    expect((counts.b as number) + (counts.c as number)).toBe(40);
  });

  it("sends requests away from an upstream busy with a long stream under least-busy", async () => {
    const { server } = await start({ strategy: "least-busy" }, {}, { chunkDelayMs: 0 });
    // Hold a stream open on the first upstream: read its first event, then stop reading.
    const held = upstreams[0] as OpenAICompatibleFake;
    held.setFaults(() => ({ kind: "never-end", afterChunks: 1 }));
    const stream = await chat(server, true);
    expect(stream.headers.get("x-g4f-provider")).toBe("a");
    const reader = stream.body?.getReader();
    await reader?.read();
    const providers = await answeredBy(server, 6);
    expect(tally(providers)).toEqual({ a: 0, b: 3, c: 3 });
    await reader?.cancel();
  });

  it("settles on the upstream with the lowest time to first content under latency", async () => {
    const { server, fakes } = await start({ strategy: "latency", latencyExploration: 0 });
    fakes.a?.setFaults(() => ({ kind: "delay-first-chunk", ms: 80 }));
    fakes.c?.setFaults(() => ({ kind: "delay-first-chunk", ms: 40 }));
    // Each upstream is measured once (the unmeasured go first), then the fastest keeps the load.
    expect(await answeredBy(server, 3)).toEqual(["a", "b", "c"]);
    expect(tally(await answeredBy(server, 6))).toEqual({ a: 0, b: 6, c: 0 });
  });
});
