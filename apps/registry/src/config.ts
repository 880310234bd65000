import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type ZodError, z } from "zod";
import { ConfigError, type ConfigIssue } from "./config-error.js";
import { type EnvironmentVariables, resolveSecretReferences } from "./config-secrets.js";

/** The per-attempt waits of the fallback engine, in milliseconds. */
export interface AttemptTimeouts {
  /** From the start of an attempt to its first chunk. */
  firstChunkMs: number;
  /** The longest gap between two chunks. */
  idleMs: number;
  /** The whole attempt, the streamed answer included. */
  totalMs: number;
}

export const defaultAttemptTimeouts: AttemptTimeouts = {
  firstChunkMs: 60_000,
  idleMs: 60_000,
  totalMs: 600_000,
};

const milliseconds = z.int().min(1).max(86_400_000);

const timeoutsSchema = z.strictObject({
  firstChunkMs: milliseconds.optional(),
  idleMs: milliseconds.optional(),
  totalMs: milliseconds.optional(),
});

const environmentReferenceSchema = z.strictObject({
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"),
});

/**
 * Provider ids appear in paths (`/api/<id>/chat/completions`) and in model prefixes
 * (`<id>:<model>`), so they may not hold `/` or `:`, which would make both ambiguous.
 */
export const providerIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const providerEntrySchema = z.strictObject({
  id: z
    .string()
    .max(64)
    .regex(providerIdPattern, "must start with a letter or digit and hold only A-Z a-z 0-9 _ . -"),
  /** A package name, a plugin name, or a path (`./my-provider`) to a provider package. */
  use: z.string().min(1).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  /** Higher is tried first; equal priorities keep discovery order. */
  priority: z.int().min(-1_000_000).max(1_000_000).optional(),
  /** Default: the provider's own `working` flag. */
  enabled: z.boolean().optional(),
  timeouts: timeoutsSchema.optional(),
  /** When its package is missing or its options are refused, skip it with a warning instead of refusing to start. */
  optional: z.boolean().optional(),
  /** Its share of the requests under the `weighted` strategy (default 1; 0: only when the others fail). */
  weight: z.number().min(0).max(1_000_000).optional(),
});

const hostNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\*|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$/, 'must be a host name without a port, or "*"');

const originSchema = z
  .string()
  .max(300)
  .regex(
    /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/,
    'must be an origin such as "https://app.example:3000" (scheme, host, optional port; no "*", no path)',
  );

/** An API key, read from the environment, with its own limits (each optional: none, no limit). */
const apiKeyEntrySchema = environmentReferenceSchema.extend({
  /** Requests per minute (a sliding window of 60 one-second steps). */
  rpm: z.int().min(1).max(100_000_000).optional(),
  /** Tokens (prompt and completion) per minute, counted when each answer ends. */
  tpm: z.int().min(1).max(1_000_000_000_000).optional(),
  /** Requests of the key being answered at once. */
  maxConcurrent: z.int().min(1).max(1_000_000).optional(),
});

/** Where the replicas of a registry share their state; without it, each process keeps its own. */
const stateSchema = z.strictObject({
  redis: z
    .strictObject({
      /** `redis://[:password@]host:port[/db]`; a password belongs in the environment: `{ "env": "REDIS_URL" }`. */
      url: z.union([environmentReferenceSchema, z.string().min(1).max(2048)]),
      /** Put before every key and channel, so replicas of different deployments can share one Redis. */
      keyPrefix: z.string().max(200).default("g4f:"),
      /** A Redis command slower than this counts as failed: the replica goes on with its local state. */
      commandTimeoutMs: z.int().min(1).max(60_000).default(500),
      /** How often a replica writes its in-flight counts and latencies and reads the others'. */
      syncIntervalMs: z.int().min(10).max(60_000).default(100),
    })
    .optional(),
});

const routingStrategySchema = z.enum([
  "priority",
  "round-robin",
  "weighted",
  "least-busy",
  "latency",
  "shuffle",
]);

const logLevelSchema = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    server: z
      .strictObject({
        host: z.string().min(1).default("127.0.0.1"),
        port: z.int().min(0).max(65_535).default(1337),
        bodyLimitBytes: z
          .int()
          .min(1024)
          .max(1024 * 1024 * 1024)
          .default(4 * 1024 * 1024),
        shutdownGraceMs: z.int().min(0).max(3_600_000).default(10_000),
        /**
         * The most bytes of an answer sent as one JSON body (streams have no such
         * limit: they are never held). At most 64 MiB, so that its JSON, escapes
         * and all, stays within a string's length.
         */
        answerLimitBytes: z
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(32 * 1024 * 1024),
        apiKeys: z.array(apiKeyEntrySchema).default([]),
        /** Host names accepted besides the loopback names, IP addresses and `host`; `"*"`: any. */
        allowedHosts: z.array(hostNameSchema).max(1000).default([]),
        /** Browser origins (`https://app.example:3000`) allowed to call the API; none: CORS off. */
        corsOrigins: z.array(originSchema).max(1000).default([]),
        /** `/metrics` needs an API key when keys are configured. */
        metricsRequireKey: z.boolean().default(true),
        /** Open connections at most; default: from the descriptor limit (`ulimit -n`). */
        maxConnections: z.int().min(1).max(1_000_000).optional(),
        /** How long a connection may take to send its request headers. */
        headersTimeoutMs: z.int().min(100).max(600_000).default(10_000),
        /** Messages of one chat request at most (OpenAI's own limit is 2,048). */
        maxMessages: z.int().min(1).max(1_000_000).default(2_048),
        /** Content parts (`[{ "type": "text", … }]`) of one chat request at most, over all messages. */
        maxContentParts: z.int().min(1).max(1_000_000).default(10_000),
        /** Serve the console (the page at `/` and `/console`, and `/v1/console/stats`). */
        console: z.boolean().default(true),
      })
      .prefault({}),
    discovery: z
      .strictObject({
        /** Scan the `node_modules` folders beside the registry for provider packages. */
        installed: z.boolean().default(true),
      })
      .prefault({}),
    routing: z
      .strictObject({
        strategy: routingStrategySchema.default("priority"),
        /** A strategy per requested model name, over `strategy`. */
        models: z
          .record(z.string().min(1).max(500), z.strictObject({ strategy: routingStrategySchema }))
          .default({}),
        /** How often the `latency` strategy tries a candidate other than the fastest (0 to 1). */
        latencyExploration: z.number().min(0).max(1).default(0.1),
        retriesPerProvider: z.int().min(0).max(10).default(0),
        retryDelayMs: z.int().min(0).max(60_000).default(100),
        timeouts: timeoutsSchema.prefault({}),
        /** A request field no candidate can honour: a 400 naming it, or dropped and named in `x-g4f-dropped-params`. */
        unsupportedFields: z.enum(["reject", "drop"]).default("reject"),
      })
      .prefault({}),
    cooldown: z
      .strictObject({
        failureThreshold: z.int().min(1).max(1000).default(3),
        durationMs: z.int().min(0).max(86_400_000).default(5_000),
        maxDurationMs: z.int().min(0).max(86_400_000).default(60_000),
        /** A failure that carries `retry-after` starts a cooldown at once. */
        honorRetryAfter: z.boolean().default(true),
        /** Distinct clients whose failures it takes to cool a provider down for everyone. */
        minDistinctClients: z.int().min(1).max(1000).default(2),
        /** Clients whose own failure counts are kept per provider. */
        maxTrackedClients: z.int().min(1).max(1_000_000).default(10_000),
        /** A timeout before the first content of a prompt this many times the provider's recent ones is the prompt's fault (0: off). */
        largePromptFactor: z.number().min(0).max(1000).default(4),
        /** …for prompts of at least this many characters. */
        largePromptMinCharacters: z.int().min(0).max(1_000_000_000).default(32_768),
      })
      .prefault({}),
    state: stateSchema.prefault({}),
    logLevel: logLevelSchema.default("info"),
    /** The store of `/v1/responses` (for `GET /v1/responses/{id}` and `previous_response_id`). */
    responses: z
      .strictObject({
        /** Responses kept at most, the oldest evicted first (0: none is kept). */
        storeMaxEntries: z.int().min(0).max(1_000_000).default(1_000),
        /** How long a response is kept, in seconds. */
        storeTtlSeconds: z
          .int()
          .min(1)
          .max(30 * 86_400)
          .default(3_600),
        /** The most bytes kept over all responses, the oldest evicted first. */
        storeMaxBytes: z
          .int()
          .min(1024)
          .max(4 * 1024 * 1024 * 1024)
          .default(64 * 1024 * 1024),
      })
      .prefault({}),
    providers: z.array(providerEntrySchema).default([]),
  })
  .superRefine((config, context) => {
    const seen = new Map<string, number>();
    config.providers.forEach((entry, index) => {
      const first = seen.get(entry.id);
      if (first === undefined) seen.set(entry.id, index);
      else
        context.addIssue({
          code: "custom",
          path: ["providers", index, "id"],
          message: `duplicates the id of providers.${first}`,
        });
    });
  });

/** A config file as written: every field optional. */
export type RegistryConfigInput = z.input<typeof configSchema>;

type ParsedConfig = z.output<typeof configSchema>;

/** One provider of the config, its secrets resolved. */
export interface ProviderConfigEntry {
  id: string;
  use: string | undefined;
  options: Record<string, unknown>;
  priority: number;
  enabled: boolean | undefined;
  timeouts: Partial<AttemptTimeouts>;
  /** Skipped with a warning, instead of an error at start, when it can not be made. */
  optional: boolean;
  /** Its share under the `weighted` strategy. */
  weight: number;
}

/** The limits of one API key (see `server.apiKeys`); undefined: no limit. */
export interface ApiKeyLimits {
  /** The key itself, as the environment gave it. */
  key: string;
  rpm: number | undefined;
  tpm: number | undefined;
  maxConcurrent: number | undefined;
}

/** The Redis the replicas share state through, its URL read from the environment. */
export interface RedisStateConfig {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
  syncIntervalMs: number;
}

/** The validated config with every default filled in and every secret read from the environment. */
export interface RegistryConfig {
  server: Omit<ParsedConfig["server"], "apiKeys"> & {
    /** The accepted API keys (from the environment); empty means no key is needed. */
    apiKeys: string[];
    /** The keys that have limits (`rpm`, `tpm`, `maxConcurrent`). */
    apiKeyLimits: ApiKeyLimits[];
  };
  discovery: ParsedConfig["discovery"];
  routing: Omit<ParsedConfig["routing"], "timeouts"> & { timeouts: AttemptTimeouts };
  cooldown: ParsedConfig["cooldown"];
  /** Where replicas share state; `redis` undefined: in this process only. */
  state: { redis: RedisStateConfig | undefined };
  logLevel: ParsedConfig["logLevel"];
  responses: ParsedConfig["responses"];
  providers: ProviderConfigEntry[];
  /** The folder `use` paths are resolved from: the config file's, or the working directory. */
  directory: string;
  /** Where the config came from (a file path, or "config"), named in errors. */
  source: string;
}

export interface ParseConfigOptions {
  /** Where the config came from, named in errors (a file path). */
  source?: string;
  /** Default: `process.env`. */
  env?: EnvironmentVariables;
  /** Default: the source file's folder, or the working directory. */
  directory?: string;
}

function issuesFromZod(error: ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      return {
        path: [...path, issue.keys[0] ?? ""].join("."),
        message: `unknown field${issue.keys.length > 1 ? `s ${issue.keys.join(", ")}` : ""}`,
      };
    }
    return { path: path.length === 0 ? "(root)" : path.join("."), message: issue.message };
  });
}

/**
 * Validate a config value and resolve it: defaults filled in, `{ "env": "NAME" }`
 * references replaced by the environment's values, `G4F_API_KEY` added to the API
 * keys. Throws a `ConfigError` that lists every problem with the path of its field.
 *
 * @example
 * const config = parseConfig({ providers: [{ id: "local", use: "@g4f-ts/provider-amigochat",
 *   options: { baseUrl: { env: "LOCAL_AMIGO_URL" } } }] });
 */
export function parseConfig(value: unknown, options: ParseConfigOptions = {}): RegistryConfig {
  const env = options.env ?? process.env;
  const source = options.source ?? "config";
  const parsed = configSchema.safeParse(value ?? {});
  if (!parsed.success) throw new ConfigError(source, issuesFromZod(parsed.error));
  const config = parsed.data;

  const issues: ConfigIssue[] = [];
  const apiKeys: string[] = [];
  const apiKeyLimits: ApiKeyLimits[] = [];
  config.server.apiKeys.forEach((reference, index) => {
    const key = env[reference.env];
    if (key === undefined || key === "")
      issues.push({
        path: `server.apiKeys.${index}.env`,
        message: `the environment variable ${reference.env} is not set`,
      });
    else {
      apiKeys.push(key);
      const { rpm, tpm, maxConcurrent } = reference;
      if (rpm !== undefined || tpm !== undefined || maxConcurrent !== undefined)
        apiKeyLimits.push({ key, rpm, tpm, maxConcurrent });
    }
  });
  const redis = resolveRedisState(config.state.redis, env, issues);
  const environmentKey = env.G4F_API_KEY;
  if (environmentKey !== undefined && environmentKey !== "") apiKeys.push(environmentKey);

  const providers = config.providers.map((entry, index): ProviderConfigEntry => {
    const resolvedOptions = resolveSecretReferences(
      entry.options ?? {},
      `providers.${index}.options`,
      env,
      issues,
    );
    return {
      id: entry.id,
      use: entry.use,
      options: resolvedOptions,
      priority: entry.priority ?? 0,
      enabled: entry.enabled,
      timeouts: entry.timeouts ?? {},
      optional: entry.optional ?? false,
      weight: entry.weight ?? 1,
    };
  });
  if (issues.length > 0) throw new ConfigError(source, issues);

  const { timeouts, ...routing } = config.routing;
  return {
    server: { ...config.server, apiKeys, apiKeyLimits },
    discovery: config.discovery,
    routing: { ...routing, timeouts: { ...defaultAttemptTimeouts, ...timeouts } },
    cooldown: config.cooldown,
    state: { redis },
    logLevel: config.logLevel,
    responses: config.responses,
    providers,
    directory:
      options.directory ??
      (options.source === undefined ? process.cwd() : dirname(resolve(options.source))),
    source,
  };
}

/** `state.redis` with its URL read from the environment, or undefined when it is off (or not set). */
function resolveRedisState(
  redis: ParsedConfig["state"]["redis"],
  env: EnvironmentVariables,
  issues: ConfigIssue[],
): RedisStateConfig | undefined {
  if (redis === undefined) return undefined;
  const { url, ...rest } = redis;
  if (typeof url === "string") {
    // A password belongs in the environment, as every other secret of the config.
    if (/^[a-z]+:\/\/[^/@]*:[^/@]+@/i.test(url)) {
      issues.push({
        path: "state.redis.url",
        message: 'the URL holds a password; write it as { "env": "REDIS_URL" }',
      });
      return undefined;
    }
    return { url, ...rest };
  }
  const value = env[url.env];
  if (value === undefined || value === "") {
    issues.push({
      path: "state.redis.url.env",
      message: `the environment variable ${url.env} is not set`,
    });
    return undefined;
  }
  return { url: value, ...rest };
}

/**
 * Read and validate a JSON config file; without a path, the defaults (no file is
 * needed to start). Errors name the file and the path of each bad field.
 */
export async function loadConfig(
  path: string | undefined,
  options: Omit<ParseConfigOptions, "source"> = {},
): Promise<RegistryConfig> {
  if (path === undefined) return parseConfig({}, options);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [
      {
        path: "(file)",
        message: code === "ENOENT" ? "the file does not exist" : `can not be read (${code})`,
      },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, [
      { path: "(file)", message: `is not valid JSON: ${(error as Error).message}` },
    ]);
  }
  return parseConfig(value, { ...options, source: path });
}
