import type { Messages } from "@g4f-ts/provider-core";

/** How many stored responses are kept, for how long, and in how many bytes at most. */
export interface ResponsesStoreLimits {
  /** Responses kept at most; the oldest goes first (default 1000). */
  maxEntries: number;
  /** How long a response is kept, in seconds (default 3600). */
  ttlSeconds: number;
  /** The most bytes (of JSON) kept over all responses; the oldest go first (default 64 MiB). */
  maxBytes: number;
}

export const defaultResponsesStoreLimits: ResponsesStoreLimits = {
  maxEntries: 1_000,
  ttlSeconds: 3_600,
  maxBytes: 64 * 1024 * 1024,
};

/** One stored response. */
export interface StoredResponse {
  readonly id: string;
  /** Who may read it: the client identity of its creator when API keys are required, else "". */
  readonly owner: string;
  /** The response object as JSON text, as `GET /v1/responses/{id}` answers it. */
  readonly body: string;
  /** The conversation up to and including this response (without its `instructions`), for `previous_response_id`. */
  readonly conversation: Messages;
  readonly bytes: number;
  readonly expiresAt: number;
}

/**
 * The responses kept for `GET /v1/responses/{id}` and `previous_response_id`, in
 * this process's memory: bounded by count, total size and age, the oldest evicted
 * first. Each entry holds its whole conversation, so a chain of turns never breaks
 * in the middle: a response is usable as long as it is itself kept. With API keys
 * configured, a response is visible only to the key that made it.
 */
export class ResponsesStore {
  readonly #entries = new Map<string, StoredResponse>();
  #bytes = 0;

  constructor(
    readonly limits: ResponsesStoreLimits = defaultResponsesStoreLimits,
    readonly now: () => number = Date.now,
  ) {}

  /** Keep a response; false when it alone is larger than `maxBytes` (it is then not kept). */
  put(entry: Omit<StoredResponse, "bytes" | "expiresAt">): boolean {
    const bytes =
      Buffer.byteLength(entry.body) + Buffer.byteLength(JSON.stringify(entry.conversation));
    if (bytes > this.limits.maxBytes || this.limits.maxEntries === 0) return false;
    this.delete(entry.id, entry.owner);
    this.#evictExpired();
    while (
      this.#entries.size >= this.limits.maxEntries ||
      this.#bytes + bytes > this.limits.maxBytes
    ) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#remove(oldest.value);
    }
    this.#entries.set(entry.id, {
      ...entry,
      bytes,
      expiresAt: this.now() + this.limits.ttlSeconds * 1000,
    });
    this.#bytes += bytes;
    return true;
  }

  /** The response of that id, unless it expired, was evicted, or belongs to another owner. */
  get(id: string, owner: string): StoredResponse | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.#remove(id);
      return undefined;
    }
    return entry.owner === owner ? entry : undefined;
  }

  /** Forget a response; true when there was one to forget. */
  delete(id: string, owner: string): boolean {
    if (this.get(id, owner) === undefined) return false;
    this.#remove(id);
    return true;
  }

  /** Responses kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  // Entries are in insertion order, and every entry lives as long: the expired ones are first.
  #evictExpired(): void {
    const now = this.now();
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#remove(id);
    }
  }

  #remove(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
  }
}
