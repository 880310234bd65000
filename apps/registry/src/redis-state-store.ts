import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { z } from "zod";
import { candidateKey } from "./candidate-statistics.js";
import type { RedisStateConfig } from "./config.js";
import { MemoryStateStore } from "./memory-state-store.js";
import { decideAdmission } from "./rate-window.js";
import { admissionScript } from "./redis-admission-script.js";
import type {
  AdmissionDecision,
  KeyLimits,
  SharedAttemptEvent,
  StateStatus,
  StateStore,
} from "./state-store.js";

/** Slot releases kept for a retry at most; past it, the lease frees them. */
const maxPendingReleases = 10_000;

/** How long an admitted request holds its concurrency slot at most, should its replica die. */
const defaultLeaseMs = 600_000;

const sharedAttemptSchema = z.object({
  replica: z.string(),
  kind: z.enum(["success", "failure"]),
  provider: z.string(),
  model: z.string(),
  message: z.string().optional(),
  client: z.string().optional(),
  retryAfterSeconds: z.number().optional(),
  promptCharacters: z.number().optional(),
  sentAt: z.number().optional(),
});

type AdmissionReply = [string, number, number, number, number, number];

interface AdmissionCommand {
  g4fAdmit(
    requestsKey: string,
    tokensKey: string,
    openKey: string,
    now: number,
    rpm: number,
    tpm: number,
    maxConcurrent: number,
    requestId: string,
    leaseMs: number,
  ): Promise<AdmissionReply>;
}

export interface RedisStateStoreOptions {
  /** Named in Redis; default: a random id. */
  replicaId?: string;
  /** The concurrency slot's longest hold (default 10 min, the attempts' longest total). */
  leaseMs?: number;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The state of a registry shared with its replicas through Redis:
 *
 * - attempt outcomes are published on a channel; each replica feeds the others'
 *   into its own cooldown tracker, so a failure seen by one cools the candidate down
 *   on all (in about a round trip);
 * - each replica writes its in-flight counts and latencies to its own hash every
 *   `syncIntervalMs` (the hash expires when the replica stops) and reads the others';
 * - per-key limits are counted by one atomic script (`redis-admission-script.ts`).
 *
 * Every command has `commandTimeoutMs`; while Redis is away or slow the replica
 * goes on with its own in-process state (an inner `MemoryStateStore`), says
 * `degraded`, keeps reconnecting, and shares again once Redis answers.
 */
export class RedisStateStore implements StateStore {
  readonly replicaId: string;
  readonly #local = new MemoryStateStore();
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #leaseMs: number;
  readonly #listeners: ((event: SharedAttemptEvent) => void)[] = [];
  readonly #statusListeners: ((status: StateStatus) => void)[] = [];
  readonly #syncTimer: NodeJS.Timeout;
  readonly #entryTtlMs: number;
  /** The other replicas' in-flight counts (summed) and latencies (averaged), as last read. */
  #othersInFlight = new Map<string, number>();
  #othersLatency = new Map<string, number>();
  /** Concurrency slots still to free in Redis: [open-requests key, request id]. */
  readonly #pendingReleases: [string, string][] = [];
  /** Requests admitted locally after their Redis admission timed out: freed in Redis too. */
  readonly #uncertainAdmissions = new Set<string>();
  /** Requests admitted by Redis (released there), not by the local fallback. */
  readonly #admittedShared = new Set<string>();
  #healthy = false;
  #connected = false;
  #subscribed = false;
  #since = new Date().toISOString();
  #lastError: string | null = "not connected yet";
  #errors = 0;
  #syncing = false;
  #closed = false;

  constructor(
    readonly config: RedisStateConfig,
    options: RedisStateStoreOptions = {},
  ) {
    this.replicaId = options.replicaId ?? randomUUID();
    this.#prefix = config.keyPrefix;
    this.#channel = `${this.#prefix}attempts`;
    this.#leaseMs = options.leaseMs ?? defaultLeaseMs;
    this.#entryTtlMs = Math.max(3_000, config.syncIntervalMs * 10);
    const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1_000);
    this.#redis = new Redis(config.url, {
      commandTimeout: config.commandTimeoutMs,
      connectTimeout: Math.max(1_000, config.commandTimeoutMs),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy,
      lazyConnect: false,
    });
    this.#redis.defineCommand("g4fAdmit", { numberOfKeys: 3, lua: admissionScript });
    this.#redis.on("ready", () => {
      this.#connected = true;
      this.#recovered();
    });
    this.#redis.on("error", (error: unknown) => this.#failed(error));
    this.#redis.on("close", () => {
      this.#connected = false;
      this.#failed(new Error("the connection to Redis closed"));
    });
    // Sharing resumes only once the channel is subscribed again: an event published
    // before would be lost to this replica.
    this.#subscriber = new Redis(config.url, {
      connectTimeout: Math.max(1_000, config.commandTimeoutMs),
      commandTimeout: Math.max(1_000, config.commandTimeoutMs),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      retryStrategy,
    });
    this.#subscriber.on("ready", () => {
      this.#subscriber.subscribe(this.#channel).then(
        () => {
          this.#subscribed = true;
          this.#recovered();
        },
        (error: unknown) => this.#failed(error),
      );
    });
    this.#subscriber.on("error", (error: unknown) => this.#failed(error));
    this.#subscriber.on("close", () => {
      this.#subscribed = false;
      this.#failed(new Error("the subscription to Redis closed"));
    });
    this.#subscriber.on("message", (_channel: string, text: string) => this.#received(text));
    this.#syncTimer = setInterval(() => void this.#sync(), config.syncIntervalMs);
    this.#syncTimer.unref();
  }

  status(): StateStatus {
    return {
      backend: "redis",
      status: this.#healthy ? "shared" : "degraded",
      since: this.#since,
      lastError: this.#healthy ? null : this.#lastError,
      errors: this.#errors,
    };
  }

  publishAttempt(event: SharedAttemptEvent): void {
    if (!this.#healthy) return;
    this.#redis
      .publish(
        this.#channel,
        JSON.stringify({ ...event, replica: this.replicaId, sentAt: Date.now() }),
      )
      .catch((error: unknown) => this.#failed(error));
  }

  onStatusChange(listener: (status: StateStatus) => void): void {
    this.#statusListeners.push(listener);
  }

  onRemoteAttempt(listener: (event: SharedAttemptEvent) => void): void {
    this.#listeners.push(listener);
  }

  beginAttempt(provider: string, model: string): () => void {
    return this.#local.beginAttempt(provider, model);
  }

  inFlight(provider: string, model: string): number {
    const others = this.#healthy
      ? (this.#othersInFlight.get(candidateKey(provider, model)) ?? 0)
      : 0;
    return this.#local.inFlight(provider, model) + others;
  }

  recordFirstContent(provider: string, model: string, elapsedMs: number): void {
    this.#local.recordFirstContent(provider, model, elapsedMs);
  }

  latencyMs(provider: string, model: string): number | undefined {
    const own = this.#local.latencyMs(provider, model);
    const others = this.#healthy
      ? this.#othersLatency.get(candidateKey(provider, model))
      : undefined;
    if (own === undefined) return others;
    if (others === undefined) return own;
    return (own + others) / 2;
  }

  async admitRequest(
    keyId: string,
    limits: KeyLimits,
    requestId: string,
    now: number,
  ): Promise<AdmissionDecision> {
    if (!this.#healthy) return this.#local.admitRequest(keyId, limits, requestId, now);
    const keys = this.#limitKeys(keyId);
    let reply: AdmissionReply;
    try {
      reply = await (this.#redis as unknown as AdmissionCommand).g4fAdmit(
        keys.requests,
        keys.tokens,
        keys.open,
        now,
        limits.rpm ?? 0,
        limits.tpm ?? 0,
        limits.maxConcurrent ?? 0,
        requestId,
        this.#leaseMs,
      );
    } catch (error) {
      this.#failed(error);
      // A command that timed out may still run once Redis answers, and take a slot there.
      this.#uncertainAdmissions.add(requestId);
      return this.#local.admitRequest(keyId, limits, requestId, now);
    }
    const [, requests, requestsOldest, tokens, tokensOldest, open] = reply;
    const decision = decideAdmission(
      limits,
      {
        requests: Number(requests),
        requestsOldest: Number(requestsOldest) < 0 ? undefined : Number(requestsOldest),
        tokens: Number(tokens),
        tokensOldest: Number(tokensOldest) < 0 ? undefined : Number(tokensOldest),
        concurrent: Number(open),
      },
      now,
    );
    if (decision.refusedBy === undefined) this.#admittedShared.add(requestId);
    return decision;
  }

  finishRequest(
    keyId: string,
    limits: KeyLimits,
    requestId: string,
    tokens: number,
    now: number,
  ): void {
    if (!this.#admittedShared.delete(requestId)) {
      this.#local.finishRequest(keyId, limits, requestId, tokens, now);
      if (this.#uncertainAdmissions.delete(requestId) && limits.maxConcurrent !== undefined)
        this.#release(this.#limitKeys(keyId).open, requestId);
      return;
    }
    const keys = this.#limitKeys(keyId);
    if (limits.maxConcurrent !== undefined) this.#release(keys.open, requestId);
    const pipeline = this.#redis.pipeline();
    if (limits.tpm !== undefined && tokens > 0) {
      pipeline.hincrby(keys.tokens, String(Math.floor(now / 1000)), Math.ceil(tokens));
      pipeline.pexpire(keys.tokens, 61_000);
    }
    if (pipeline.length === 0) return;
    pipeline.exec().catch((error: unknown) => this.#failed(error));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#syncTimer);
    this.#redis.disconnect();
    this.#subscriber.disconnect();
  }

  /**
   * Free a concurrency slot; one that could not be freed (Redis slow or away) is
   * tried again after each sync, so a short outage does not hold it for the lease.
   */
  #release(openKey: string, requestId: string): void {
    this.#redis.zrem(openKey, requestId).catch((error: unknown) => {
      this.#failed(error);
      if (this.#pendingReleases.length < maxPendingReleases)
        this.#pendingReleases.push([openKey, requestId]);
    });
  }

  #retryReleases(): void {
    for (const [openKey, requestId] of this.#pendingReleases.splice(0))
      this.#release(openKey, requestId);
  }

  #limitKeys(keyId: string): { requests: string; tokens: string; open: string } {
    const base = `${this.#prefix}limits:${keyId}:`;
    return { requests: `${base}requests`, tokens: `${base}tokens`, open: `${base}open` };
  }

  #received(text: string): void {
    let event: z.infer<typeof sharedAttemptSchema>;
    try {
      event = sharedAttemptSchema.parse(JSON.parse(text));
    } catch {
      return;
    }
    if (event.replica === this.replicaId) return;
    const { replica: _replica, ...shared } = event;
    for (const listener of this.#listeners) listener(shared);
  }

  #recovered(): void {
    if (this.#closed || this.#healthy || !this.#connected || !this.#subscribed) return;
    this.#healthy = true;
    this.#since = new Date().toISOString();
    this.#lastError = null;
    this.#statusChanged();
  }

  #statusChanged(): void {
    const status = this.status();
    for (const listener of this.#statusListeners) listener(status);
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.#errors++;
    this.#lastError = messageOf(error);
    if (!this.#healthy) return;
    this.#healthy = false;
    this.#since = new Date().toISOString();
    this.#statusChanged();
  }

  /** Write this replica's counts and latencies, and read the others'. */
  async #sync(): Promise<void> {
    if (this.#syncing || this.#closed || this.#redis.status !== "ready") return;
    this.#syncing = true;
    try {
      const now = Date.now();
      const replicas = `${this.#prefix}replicas`;
      const ownInFlight = `${this.#prefix}inflight:${this.replicaId}`;
      const ownLatency = `${this.#prefix}latency:${this.replicaId}`;
      const write = this.#redis.multi();
      write.del(ownInFlight, ownLatency);
      const inFlight = this.#local.statistics.inFlight;
      const latency = this.#local.statistics.latency;
      if (inFlight.size > 0) write.hset(ownInFlight, Object.fromEntries(inFlight));
      if (latency.size > 0) write.hset(ownLatency, Object.fromEntries(latency));
      write.pexpire(ownInFlight, this.#entryTtlMs);
      write.pexpire(ownLatency, this.#entryTtlMs);
      write.zadd(replicas, now, this.replicaId);
      write.zremrangebyscore(replicas, "-inf", String(now - this.#entryTtlMs));
      write.zrange(replicas, "0", "-1");
      const results = await write.exec();
      const members = (results?.at(-1)?.[1] ?? []) as string[];
      const others = members.filter((member) => member !== this.replicaId);
      const read = this.#redis.pipeline();
      for (const other of others) {
        read.hgetall(`${this.#prefix}inflight:${other}`);
        read.hgetall(`${this.#prefix}latency:${other}`);
      }
      const replies = others.length === 0 ? [] : ((await read.exec()) ?? []);
      const othersInFlight = new Map<string, number>();
      const latencySums = new Map<string, { sum: number; count: number }>();
      replies.forEach(([error, value], index) => {
        if (error !== null) throw error;
        for (const [key, text] of Object.entries(value as Record<string, string>)) {
          const number = Number(text);
          if (!Number.isFinite(number)) continue;
          if (index % 2 === 0) othersInFlight.set(key, (othersInFlight.get(key) ?? 0) + number);
          else {
            const entry = latencySums.get(key) ?? { sum: 0, count: 0 };
            entry.sum += number;
            entry.count++;
            latencySums.set(key, entry);
          }
        }
      });
      this.#othersInFlight = othersInFlight;
      this.#othersLatency = new Map(
        [...latencySums].map(([key, { sum, count }]) => [key, sum / count]),
      );
      this.#recovered();
      this.#retryReleases();
    } catch (error) {
      this.#failed(error);
    } finally {
      this.#syncing = false;
    }
  }
}
