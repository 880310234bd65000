import { type OpenAICompatibleFake, startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type RedisProcess, startRedisServer } from "../test-support/redis-process.js";
import { sharedModelUpstream } from "../test-support/replicas.js";
import {
  type ServeProcess,
  startServeProcess,
  writeConfigFile,
} from "../test-support/serve-process.js";
import type { ProvidersBody } from "./__fixtures__/http-bodies.js";

/**
 * Three `g4f-ts serve` processes on loopback ports sharing one real `redis-server`,
 * in front of fake OpenAI-compatible upstreams: what an operator runs behind a
 * load balancer.
 */
let redis: RedisProcess;
let replicas: ServeProcess[] = [];
const fakes: OpenAICompatibleFake[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(
    replicas.map((replica) => {
      replica.child.kill("SIGTERM");
      return replica.exited;
    }),
  );
  replicas = [];
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fake(): Promise<OpenAICompatibleFake> {
  const started = await startOpenAICompatibleFake({ models: ["shared-model"] });
  fakes.push(started);
  return started;
}

let prefixCount = 0;

async function startThree(
  config: Record<string, unknown>,
  redisOptions: Record<string, unknown> = {},
): Promise<ServeProcess[]> {
  const configPath = await writeConfigFile({
    discovery: { installed: false },
    ...config,
    state: {
      redis: { url: { env: "REDIS_URL" }, keyPrefix: `long-${++prefixCount}:`, ...redisOptions },
    },
  });
  const env = { ...process.env, REDIS_URL: redis.url, KEY_A: "key-a" };
  replicas = await Promise.all(
    [0, 1, 2].map(() =>
      startServeProcess(["--port", "0", "--config", configPath, "--log-level", "silent"], env),
    ),
  );
  await Promise.all(replicas.map((replica) => untilState(replica, "shared")));
  return replicas;
}

interface HealthBody {
  status: string;
  state?: { status: string };
}

/** Resolves once the replica's `/healthz` names that state (asked every 20 ms, for at most 10 s). */
async function untilState(replica: ServeProcess, wanted: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const body = (await (await fetch(`${replica.url}/healthz`)).json()) as HealthBody;
      expect(body.state?.status).toBe(wanted);
    },
    { timeout: 10_000, interval: 20 },
  );
}

function chat(replica: ServeProcess, key?: string): Promise<Response> {
  return fetch(`${replica.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify({ model: "shared-model", messages: [{ role: "user", content: "Hi" }] }),
  });
}

function chatHits(server: OpenAICompatibleFake): number {
  return server.requests.filter((request) => request.path.endsWith("/chat/completions")).length;
}

async function coolingDown(replica: ServeProcess, key?: string): Promise<string[]> {
  const response = await fetch(`${replica.url}/v1/providers`, {
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });
  const body = (await response.json()) as ProvidersBody;
  return body.data.flatMap((provider) =>
    provider.health.cooling_down_models.map((model) => `${provider.id}/${model}`),
  );
}

describe("three serve processes sharing one Redis", () => {
  it("skips on B and C a provider that failed on A, without a new attempt", async () => {
    const down = await fake();
    const up = await fake();
    down.setFaults(() => ({ kind: "status", status: 503 }));
    const [a, b, c] = (await startThree({
      cooldown: { failureThreshold: 1, minDistinctClients: 1 },
      providers: [sharedModelUpstream("down", down.url, 10), sharedModelUpstream("up", up.url)],
    })) as [ServeProcess, ServeProcess, ServeProcess];
    expect((await chat(a)).headers.get("x-g4f-provider")).toBe("up");
    expect(chatHits(down)).toBe(1);
    await vi.waitFor(async () => expect(await coolingDown(c)).toEqual(["down/shared-model"]), {
      timeout: 2_000,
      interval: 10,
    });
    expect(await coolingDown(b)).toEqual(["down/shared-model"]);
    for (const replica of [b, c, b, c])
      expect((await chat(replica)).headers.get("x-g4f-provider")).toBe("up");
    expect(chatHits(down)).toBe(1);
  });

  it("lets exactly 60 of 3 replicas × 40 requests of a key limited to 60 a minute through", async () => {
    const healthy = await fake();
    // A command that times out may have counted in Redis while the replica counts the
    // request locally too: here Redis must answer, however starved the machine.
    await startThree(
      {
        server: { apiKeys: [{ env: "KEY_A", rpm: 60 }] },
        providers: [sharedModelUpstream("healthy", healthy.url)],
      },
      { commandTimeoutMs: 5_000 },
    );
    const responses = await Promise.all(
      replicas.flatMap((replica) => Array.from({ length: 40 }, () => chat(replica, "key-a"))),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(60);
    expect(statuses.filter((status) => status === 429)).toHaveLength(60);
    expect(chatHits(healthy)).toBe(60);
  });

  it("fails no request when Redis is killed under load, and shares again once it is restarted", async () => {
    const down = await fake();
    const up = await fake();
    const [a, b] = (await startThree({
      cooldown: { failureThreshold: 1, minDistinctClients: 1 },
      server: { apiKeys: [{ env: "KEY_A", rpm: 100_000, maxConcurrent: 1_000 }] },
      providers: [sharedModelUpstream("down", down.url, 10), sharedModelUpstream("up", up.url)],
    })) as [ServeProcess, ServeProcess, ServeProcess];
    const load = replicas.flatMap((replica) =>
      Array.from({ length: 30 }, () => chat(replica, "key-a")),
    );
    await redis.kill();
    const during = replicas.flatMap((replica) =>
      Array.from({ length: 10 }, () => chat(replica, "key-a")),
    );
    await Promise.all(replicas.map((replica) => untilState(replica, "degraded")));
    const statuses = (await Promise.all([...load, ...during])).map((response) => response.status);
    expect(statuses).toEqual(statuses.map(() => 200));
    const metrics = await (
      await fetch(`${a.url}/metrics`, { headers: { authorization: "Bearer key-a" } })
    ).text();
    expect(metrics).toContain("g4f_state_shared 0");

    await redis.restart();
    await Promise.all(replicas.map((replica) => untilState(replica, "shared")));
    down.setFaults(() => ({ kind: "status", status: 503 }));
    expect((await chat(a, "key-a")).headers.get("x-g4f-provider")).toBe("up");
    const hits = chatHits(down);
    await vi.waitFor(
      async () => expect(await coolingDown(b, "key-a")).toEqual(["down/shared-model"]),
      { timeout: 2_000, interval: 10 },
    );
    expect((await chat(b, "key-a")).headers.get("x-g4f-provider")).toBe("up");
    expect(chatHits(down)).toBe(hits);
  });
});
