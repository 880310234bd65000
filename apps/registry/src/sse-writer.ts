import type { ServerResponse } from "node:http";
import { drained } from "./http-responses.js";

/** Past this many characters held, the writer writes at once rather than at the end of the tick. */
const flushCharacters = 16 * 1024;

/**
 * Writes the events of an SSE answer, gathering those of one turn of the event loop
 * into one `response.write`. An upstream piece often completes hundreds of deltas
 * at once; a write each made a chunk of the HTTP framing each and an iovec each in
 * the socket's `writev`, the largest cost of a long stream. Gathered, a delta costs
 * a string append: what was written in one turn leaves at the end of that turn
 * (`process.nextTick`), so no event waits for a later one.
 *
 * Backpressure is kept: once a write finds the socket's buffer full, `write`
 * returns a promise that settles on `drain` (or close) and the caller awaits it
 * before reading on.
 */
export class SseWriter {
  readonly #response: ServerResponse;
  #pending = "";
  #scheduled = false;
  #blocked: Promise<void> | undefined;

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  /** Queue `text`; returns a promise to await when the client is not keeping up. */
  write(text: string): Promise<void> | undefined {
    if (text === "" || this.#response.destroyed) return this.#blocked;
    this.#pending += text;
    if (this.#pending.length >= flushCharacters) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flushAtEndOfTurn);
    }
    return this.#blocked;
  }

  /**
   * Write what is queued and `text`, and hand them to the socket now rather than at
   * the end of the turn: for a stream's first events, which the client waits for,
   * while the rest of the turn (reading on from the provider, the first content's
   * bookkeeping) does not need to come first. Returns what `write` returns.
   */
  writeNow(text: string): Promise<void> | undefined {
    this.#pending += text;
    this.#flush();
    // Node corks a response's socket on a write and uncorks it on the next tick,
    // after the microtasks of this turn: uncorked here, the bytes leave at once.
    if (!this.#response.destroyed) this.#response.uncork();
    return this.#blocked;
  }

  /** Write what is queued and `text`, and end the response. */
  end(text: string): void {
    const last = this.#pending + text;
    this.#pending = "";
    if (!this.#response.destroyed) this.#response.end(last);
  }

  readonly #flushAtEndOfTurn = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    const text = this.#pending;
    if (text === "") return;
    this.#pending = "";
    const response = this.#response;
    if (response.destroyed || response.writableEnded) return;
    if (!response.write(text) && this.#blocked === undefined) {
      this.#blocked = drained(response).then(() => {
        this.#blocked = undefined;
      });
    }
  }
}
