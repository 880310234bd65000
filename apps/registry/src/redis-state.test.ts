import { type OpenAICompatibleFake, startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type RedisProcess, startRedisServer } from "../test-support/redis-process.js";
import {
  nextRemoteAttempt,
  sharedModelUpstream,
  startReplicas,
  stateStatus,
} from "../test-support/replicas.js";
import type { ErrorBody } from "./__fixtures__/http-bodies.js";
import type { RegistryConfigInput } from "./config.js";
import type { RunningServer } from "./server.js";

/**
 * Three registry replicas in this process that share nothing but a real
 * `redis-server` on a loopback port, in front of fake OpenAI-compatible upstreams.
 */
let redis: RedisProcess;
const fakes: OpenAICompatibleFake[] = [];
let replicas: RunningServer[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.close(0)));
  replicas = [];
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fake(): Promise<OpenAICompatibleFake> {
  const started = await startOpenAICompatibleFake({ models: ["shared-model"] });
  fakes.push(started);
  return started;
}

function chat(server: RunningServer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      model: "shared-model",
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
}

function chatPaths(server: OpenAICompatibleFake): number {
  return server.requests.filter((request) => request.path.endsWith("/chat/completions")).length;
}

const prefix = () => `test-${Math.random().toString(36).slice(2)}:`;

describe("replicas sharing state through Redis", () => {
  it("cools a candidate down on every replica within 100 ms of one replica's failure, and the others skip it without a new attempt", async () => {
    const down = await fake();
    const up = await fake();
    down.setFaults(() => ({ kind: "status", status: 503 }));
    const config: RegistryConfigInput = {
      cooldown: { failureThreshold: 1, minDistinctClients: 1 },
      providers: [sharedModelUpstream("down", down.url, 10), sharedModelUpstream("up", up.url)],
      state: { redis: { url: redis.url, keyPrefix: prefix() } },
    };
    replicas = await startReplicas(3, redis.url, config);
    const [a, b, c] = replicas as [RunningServer, RunningServer, RunningServer];
    const heardByB = nextRemoteAttempt(b);
    const heardByC = nextRemoteAttempt(c);
    const first = await chat(a);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-g4f-provider")).toBe("up");
    expect(chatPaths(down)).toBe(1);
    const [eventB, eventC] = await Promise.all([heardByB, heardByC]);
    for (const heard of [eventB, eventC])
      expect(heard.receivedAt - (heard.sentAt ?? 0)).toBeLessThan(100);
    expect(eventB).toMatchObject({ kind: "failure", provider: "down", model: "shared-model" });
    expect(b.registry.cooldown.remainingMs("down", "shared-model")).toBeGreaterThan(0);

    for (const replica of [b, c, b, c]) {
      const response = await chat(replica);
      expect(response.status).toBe(200);
      expect(response.headers.get("x-g4f-provider")).toBe("up");
    }
    expect(chatPaths(down)).toBe(1);
    expect(chatPaths(up)).toBe(5);
  });

  it("lets exactly 60 of 3 replicas × 40 requests of a key limited to 60 a minute through", async () => {
    const healthy = await fake();
    replicas = await startReplicas(
      3,
      redis.url,
      {
        server: { apiKeys: [{ env: "KEY_A", rpm: 60 }] },
        providers: [sharedModelUpstream("healthy", healthy.url)],
        // A command that times out may still have counted in Redis while the replica
        // counts the request locally too; here Redis must answer, however slow the machine.
        state: { redis: { url: redis.url, keyPrefix: prefix(), commandTimeoutMs: 5_000 } },
      },
      { KEY_A: "key-a" },
    );
    const responses = await Promise.all(
      replicas.flatMap((replica) =>
        Array.from({ length: 40 }, () => chat(replica, { authorization: "Bearer key-a" })),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(60);
    expect(statuses.filter((status) => status === 429)).toHaveLength(60);
    expect(chatPaths(healthy)).toBe(60);
    const refused = responses.find((response) => response.status === 429) as Response;
    expect(refused.headers.get("x-ratelimit-limit-requests")).toBe("60");
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error).toMatchObject({ type: "requests", code: "rate_limit_exceeded" });
  });

  it("goes on serving on local state while Redis is gone, says so, and shares again once it is back", async () => {
    const down = await fake();
    const up = await fake();
    const config: RegistryConfigInput = {
      cooldown: { failureThreshold: 1, minDistinctClients: 1 },
      server: { apiKeys: [{ env: "KEY_A", rpm: 1000, maxConcurrent: 50 }] },
      providers: [sharedModelUpstream("down", down.url, 10), sharedModelUpstream("up", up.url)],
      state: { redis: { url: redis.url, keyPrefix: prefix(), commandTimeoutMs: 100 } },
    };
    replicas = await startReplicas(3, redis.url, config, { KEY_A: "key-a" });
    const [a, b] = replicas as [RunningServer, RunningServer, RunningServer];
    const key = { authorization: "Bearer key-a" };

    const load = replicas.flatMap((replica) =>
      Array.from({ length: 10 }, () => chat(replica, key)),
    );
    const degraded = Promise.all(replicas.map((replica) => stateStatus(replica, "degraded")));
    await redis.kill();
    const during = [...load, ...replicas.map((replica) => chat(replica, key))];
    await degraded;
    const after = replicas.flatMap((replica) => [chat(replica, key), chat(replica, key)]);
    const statuses = (await Promise.all([...during, ...after])).map((response) => response.status);
    expect(statuses.every((status) => status === 200)).toBe(true);

    const health = (await (await fetch(`${a.url}/healthz`)).json()) as {
      status: string;
      state: { backend: string; status: string; last_error: string | null };
    };
    expect(health.status).toBe("ok");
    expect(health.state).toMatchObject({ backend: "redis", status: "degraded" });
    expect(health.state.last_error).not.toBeNull();
    const providers = (await (await fetch(`${a.url}/v1/providers`, { headers: key })).json()) as {
      state: { status: string };
    };
    expect(providers.state.status).toBe("degraded");
    const metrics = await (await fetch(`${a.url}/metrics`, { headers: key })).text();
    expect(metrics).toContain("g4f_state_shared 0");

    const shared = Promise.all(replicas.map((replica) => stateStatus(replica, "shared")));
    await redis.restart();
    await shared;
    down.setFaults(() => ({ kind: "status", status: 503 }));
    const heardByB = nextRemoteAttempt(b);
    expect((await chat(a, key)).status).toBe(200);
    expect(await heardByB).toMatchObject({ kind: "failure", provider: "down" });
    const hitsBefore = chatPaths(down);
    expect((await chat(b, key)).headers.get("x-g4f-provider")).toBe("up");
    expect(chatPaths(down)).toBe(hitsBefore);
  });

  it("goes on serving while Redis stalls, and frees the concurrency slot it could not free then once Redis answers", async () => {
    const held = await fake();
    held.setFaults((request) =>
      request.bodyText.includes("hold") ? { kind: "never-end", afterChunks: 1 } : undefined,
    );
    replicas = await startReplicas(
      2,
      redis.url,
      {
        server: { apiKeys: [{ env: "KEY_A", maxConcurrent: 1 }] },
        providers: [sharedModelUpstream("held", held.url)],
        state: { redis: { url: redis.url, keyPrefix: prefix(), commandTimeoutMs: 100 } },
      },
      { KEY_A: "key-a" },
    );
    const [a, b] = replicas as [RunningServer, RunningServer];
    const send = (replica: RunningServer, content: string, stream = false) =>
      fetch(`${replica.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer key-a" },
        body: JSON.stringify({
          model: "shared-model",
          stream,
          messages: [{ role: "user", content }],
        }),
      });
    const open = await send(a, "hold", true);
    const reader = open.body?.getReader();
    await reader?.read();
    // The slot is Redis's: the other replica sees it taken.
    expect((await send(b, "short")).status).toBe(429);

    redis.pause();
    const degraded = stateStatus(a, "degraded");
    await reader?.cancel();
    await degraded;
    // Stalled Redis: both replicas answer on their own state.
    expect((await send(a, "short")).status).toBe(200);
    expect((await send(b, "short")).status).toBe(200);

    const shared = Promise.all(replicas.map((replica) => stateStatus(replica, "shared")));
    redis.resume();
    await shared;
    // A's release, retried after its sync, reaches Redis before its next admission.
    expect((await send(a, "short")).status).toBe(200);
    expect((await send(b, "short")).status).toBe(200);
  });

  it("lets least-busy on one replica count the attempts open on another", async () => {
    const first = await fake();
    const second = await fake();
    first.setFaults((request) =>
      request.bodyText.includes("hold") ? { kind: "never-end", afterChunks: 1 } : undefined,
    );
    replicas = await startReplicas(2, redis.url, {
      routing: { strategy: "least-busy" },
      providers: [
        sharedModelUpstream("first", first.url),
        sharedModelUpstream("second", second.url),
      ],
      state: { redis: { url: redis.url, keyPrefix: prefix(), syncIntervalMs: 20 } },
    });
    const [a, b] = replicas as [RunningServer, RunningServer];
    const held = await fetch(`${a.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "shared-model",
        stream: true,
        messages: [{ role: "user", content: "hold" }],
      }),
    });
    expect(held.headers.get("x-g4f-provider")).toBe("first");
    const reader = held.body?.getReader();
    await reader?.read();
    // B learns of A's open attempt at its next sync (every 20 ms here).
    await vi.waitFor(() =>
      expect(b.registry.state.store.inFlight("first", "shared-model")).toBe(1),
    );
    for (let index = 0; index < 4; index++)
      expect((await chat(b)).headers.get("x-g4f-provider")).toBe("second");
    await reader?.cancel();
    await vi.waitFor(() =>
      expect(b.registry.state.store.inFlight("first", "shared-model")).toBe(0),
    );
  });
});
