import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultAttemptTimeouts, loadConfig, parseConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { defaultCooldownSettings } from "./cooldown.js";

function issuesOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("fills in every default when there is no config", () => {
    const config = parseConfig(undefined, { env: {} });
    expect(config.server).toEqual({
      host: "127.0.0.1",
      port: 1337,
      bodyLimitBytes: 4 * 1024 * 1024,
      shutdownGraceMs: 10_000,
      answerLimitBytes: 32 * 1024 * 1024,
      apiKeys: [],
      apiKeyLimits: [],
      allowedHosts: [],
      corsOrigins: [],
      metricsRequireKey: true,
      headersTimeoutMs: 10_000,
      maxMessages: 2_048,
      maxContentParts: 10_000,
      console: true,
    });
    expect(config.routing).toEqual({
      strategy: "priority",
      models: {},
      latencyExploration: 0.1,
      retriesPerProvider: 0,
      retryDelayMs: 100,
      timeouts: defaultAttemptTimeouts,
      unsupportedFields: "reject",
    });
    expect(config.state).toEqual({ redis: undefined });
    expect(config.cooldown).toEqual({
      failureThreshold: 3,
      durationMs: 5_000,
      maxDurationMs: 60_000,
      honorRetryAfter: true,
      minDistinctClients: 2,
      maxTrackedClients: 10_000,
      largePromptFactor: 4,
      largePromptMinCharacters: 32_768,
    });
    expect(config.cooldown).toEqual(defaultCooldownSettings);
    expect(config.discovery.installed).toBe(true);
    expect(config.providers).toEqual([]);
  });

  it("reads per-key limits beside plain key entries, and the Redis URL from the environment", () => {
    const config = parseConfig(
      {
        server: {
          apiKeys: [{ env: "KEY_A", rpm: 60, tpm: 100_000, maxConcurrent: 4 }, { env: "KEY_B" }],
        },
        state: { redis: { url: { env: "REDIS_URL" }, keyPrefix: "team:" } },
        routing: { strategy: "round-robin", models: { big: { strategy: "least-busy" } } },
        providers: [{ id: "one", weight: 3 }],
      },
      { env: { KEY_A: "a-key", KEY_B: "b-key", REDIS_URL: "redis://127.0.0.1:6379" } },
    );
    expect(config.server.apiKeys).toEqual(["a-key", "b-key"]);
    expect(config.server.apiKeyLimits).toEqual([
      { key: "a-key", rpm: 60, tpm: 100_000, maxConcurrent: 4 },
    ]);
    expect(config.state.redis).toEqual({
      url: "redis://127.0.0.1:6379",
      keyPrefix: "team:",
      commandTimeoutMs: 500,
      syncIntervalMs: 100,
    });
    expect(config.routing.models).toEqual({ big: { strategy: "least-busy" } });
    expect(config.providers[0]?.weight).toBe(3);
  });

  it("refuses a Redis URL whose variable is not set, an unknown strategy and a limit of 0", () => {
    const issues = issuesOf(() =>
      parseConfig(
        {
          server: { apiKeys: [{ env: "KEY_A", rpm: 0 }] },
          state: { redis: { url: { env: "REDIS_URL" } } },
          routing: { strategy: "fastest" },
        },
        { env: { KEY_A: "a-key" } },
      ),
    );
    expect(issues.map((issue) => issue.path)).toEqual(["server.apiKeys.0.rpm", "routing.strategy"]);
    expect(
      issuesOf(() =>
        parseConfig({ state: { redis: { url: { env: "REDIS_URL" } } } }, { env: {} }),
      ).map((issue) => issue.path),
    ).toEqual(["state.redis.url.env"]);
    expect(
      issuesOf(() =>
        parseConfig({ state: { redis: { url: "redis://:hunter2@127.0.0.1:6379" } } }, { env: {} }),
      ),
    ).toEqual([
      {
        path: "state.redis.url",
        message: 'the URL holds a password; write it as { "env": "REDIS_URL" }',
      },
    ]);
  });

  it("bounds the responses store by default, and names a bad responses field", () => {
    expect(parseConfig(undefined, { env: {} }).responses).toEqual({
      storeMaxEntries: 1_000,
      storeTtlSeconds: 3_600,
      storeMaxBytes: 64 * 1024 * 1024,
    });
    expect(() => parseConfig({ responses: { storeTtlSeconds: 0 } }, { env: {} })).toThrow(
      /responses\.storeTtlSeconds/,
    );
    expect(() => parseConfig({ responses: { storeSize: 1 } }, { env: {} })).toThrow(
      /responses\.storeSize/,
    );
  });

  it("keeps server.answerLimitBytes where an answer's JSON stays within a string's length", () => {
    expect(
      parseConfig({ server: { answerLimitBytes: 1024 * 1024 } }, { env: {} }).server
        .answerLimitBytes,
    ).toBe(1024 * 1024);
    expect(() => parseConfig({ server: { answerLimitBytes: 128 * 1024 * 1024 } })).toThrow(
      /server\.answerLimitBytes/,
    );
  });

  it("names the path of every bad field", () => {
    const issues = issuesOf(() =>
      parseConfig(
        {
          server: { port: "eighty", extra: true },
          routing: { strategy: "random", timeouts: { idleMs: -1 } },
          providers: [
            { id: "ok", use: "x" },
            { id: "bad id:with colon", priority: 1.5 },
          ],
        },
        { env: {} },
      ),
    );
    const paths = issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "server.port",
        "server.extra",
        "routing.strategy",
        "routing.timeouts.idleMs",
        "providers.1.id",
        "providers.1.priority",
      ]),
    );
  });

  it("refuses two providers with the same id, naming the second", () => {
    const issues = issuesOf(() =>
      parseConfig(
        {
          providers: [
            { id: "a", use: "x" },
            { id: "a", use: "y" },
          ],
        },
        { env: {} },
      ),
    );
    expect(issues).toEqual([
      { path: "providers.1.id", message: "duplicates the id of providers.0" },
    ]);
  });

  it("reads secrets from the environment variables the config names", () => {
    const config = parseConfig(
      {
        server: { apiKeys: [{ env: "REGISTRY_KEY" }] },
        providers: [
          {
            id: "local",
            use: "some-provider",
            options: {
              apiKey: { env: "UPSTREAM_KEY" },
              headers: { "x-team": "a" },
              retry: { maxAttempts: 1 },
            },
          },
        ],
      },
      { env: { REGISTRY_KEY: "key-1", UPSTREAM_KEY: "sk-upstream", G4F_API_KEY: "key-2" } },
    );
    expect(config.server.apiKeys).toEqual(["key-1", "key-2"]);
    expect(config.providers[0]?.options).toEqual({
      apiKey: "sk-upstream",
      headers: { "x-team": "a" },
      retry: { maxAttempts: 1 },
    });
  });

  it("reports a missing environment variable with the path that names it", () => {
    const issues = issuesOf(() =>
      parseConfig(
        {
          server: { apiKeys: [{ env: "MISSING_KEY" }] },
          providers: [{ id: "a", use: "x", options: { baseUrl: { env: "MISSING_URL" } } }],
        },
        { env: {} },
      ),
    );
    expect(issues).toEqual([
      { path: "server.apiKeys.0.env", message: "the environment variable MISSING_KEY is not set" },
      {
        path: "providers.0.options.baseUrl",
        message: "the environment variable MISSING_URL is not set",
      },
    ]);
  });

  it("refuses a secret written into the file itself", () => {
    const issues = issuesOf(() =>
      parseConfig(
        { providers: [{ id: "a", use: "x", options: { apiKey: "sk-literal" } }] },
        { env: {} },
      ),
    );
    expect(issues[0]?.path).toBe("providers.0.options.apiKey");
    expect(issues[0]?.message).toContain('{ "env": "VARIABLE_NAME" }');
  });

  it("puts the message of every issue in the error's text", () => {
    expect(() =>
      parseConfig({ cooldown: { failureThreshold: 0 } }, { env: {}, source: "g4f.json" }),
    ).toThrow(/Invalid g4f\.json:\n {2}cooldown\.failureThreshold: /);
  });
});

describe("loadConfig", () => {
  it("starts from the defaults without a file", async () => {
    const config = await loadConfig(undefined, { env: {} });
    expect(config.server.port).toBe(1337);
  });

  it("names the file when it is not JSON or does not exist", async () => {
    const directory = await mkdtemp(join(tmpdir(), "g4f-config-"));
    const path = join(directory, "broken.json");
    await writeFile(path, "{ nope");
    await expect(loadConfig(path, { env: {} })).rejects.toThrow(
      /broken\.json[\s\S]*is not valid JSON/,
    );
    await expect(loadConfig(join(directory, "missing.json"), { env: {} })).rejects.toThrow(
      /the file does not exist/,
    );
  });

  it("resolves `use` paths from the config file's folder", async () => {
    const directory = await mkdtemp(join(tmpdir(), "g4f-config-"));
    const path = join(directory, "g4f.json");
    await writeFile(path, JSON.stringify({ providers: [{ id: "a", use: "./local" }] }));
    const config = await loadConfig(path, { env: {} });
    expect(config.directory).toBe(directory);
    expect(config.providers[0]).toMatchObject({ id: "a", use: "./local", priority: 0 });
  });
});
