import type { RegistryConfigInput } from "../src/config.js";
import { type RunningServer, startServer } from "../src/server.js";
import type { SharedAttemptEvent, StateStatus } from "../src/state-store.js";

/** Resolves once the replica's state store has the wanted status (at once when it has it already). */
export function stateStatus(
  server: RunningServer,
  wanted: StateStatus["status"],
): Promise<StateStatus> {
  const { store } = server.registry.state;
  const now = store.status();
  if (now.status === wanted) return Promise.resolve(now);
  return new Promise((resolve) =>
    store.onStatusChange((status) => {
      if (status.status === wanted) resolve(status);
    }),
  );
}

/** Resolves with the next attempt outcome the replica hears of from another replica, and when it heard it. */
export function nextRemoteAttempt(
  server: RunningServer,
): Promise<SharedAttemptEvent & { receivedAt: number }> {
  return new Promise((resolve) => {
    let done = false;
    server.registry.state.store.onRemoteAttempt((event) => {
      if (done) return;
      done = true;
      resolve({ ...event, receivedAt: Date.now() });
    });
  });
}

/**
 * `count` registry servers in this process on loopback ports, each with its own
 * registry (own cooldowns, limits, statistics): they share nothing but the Redis
 * at `redisUrl`. Resolves once every one shares its state.
 */
export async function startReplicas(
  count: number,
  redisUrl: string,
  config: RegistryConfigInput,
  env: Record<string, string> = {},
): Promise<RunningServer[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      startServer({
        discover: false,
        port: 0,
        env,
        config: {
          ...config,
          state: { redis: { url: redisUrl, keyPrefix: "test:", ...config.state?.redis } },
        },
      }),
    ),
  );
  await Promise.all(servers.map((server) => stateStatus(server, "shared")));
  return servers;
}

/**
 * A provider entry of the config for an OpenAI-compatible fake at `url` serving
 * `shared-model` (the model every replica test routes), one attempt per request.
 */
export function sharedModelUpstream(id: string, url: string, priority = 0) {
  return {
    id,
    use: "@g4f-ts/provider-openai-compatible",
    priority,
    options: { baseUrl: `${url}/v1`, models: ["shared-model"], retry: { maxAttempts: 1 } },
  };
}
