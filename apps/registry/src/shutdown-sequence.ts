import { constants } from "node:os";
import { AbortError, closeDispatchersWithin } from "@g4f-ts/provider-core";
import type { Logger } from "pino";
import type { RunningServer } from "./server.js";

/** The signals that stop `g4f-ts serve`, each the same way. */
export const stopSignals = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
export type StopSignal = (typeof stopSignals)[number];

/** How long the upstream connection pools get to close once the server has closed. */
const poolCloseMs = 1_000;

/**
 * How long past the grace period a stop may take before the process exits all the
 * same: the server's 1 s for ended requests, the pools' 1 s, and room to spare.
 */
export const shutdownBoundMs = 5_000;

/** The exit code of a stop a second signal cut short: 128 + the signal's number (SIGTERM 143). */
export function forcedExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

export interface ShutdownSequenceOptions {
  /** How long open requests may take to finish after the first signal. */
  graceMs: number;
  logger: Logger;
  /** Writes a line for the operator (stderr). */
  write: (text: string) => void;
  /** Ends the process. */
  exit: (code: number) => void;
}

/**
 * How `g4f-ts serve` stops. The first SIGTERM, SIGINT or SIGHUP stops a start in
 * progress at once, or closes the server: no new connection, open requests get
 * `graceMs` to finish, then the rest end with their error event; the upstream
 * pools close (calls still running after 1 s are cut), and the process exits 0. A
 * second signal ends the open requests now, each with its error event, and the
 * process exits 128 + the signal's number. Whatever the upstreams do, the process
 * exits within `graceMs` + {@link shutdownBoundMs} (with 1 past that bound).
 */
export class ShutdownSequence {
  readonly #options: ShutdownSequenceOptions;
  readonly #startAbort = new AbortController();
  #started: Promise<RunningServer | undefined> = Promise.resolve(undefined);
  #firstSignal: StopSignal | undefined;
  #exitCode = 0;
  readonly #cleanups: (() => Promise<void> | undefined)[] = [];

  constructor(options: ShutdownSequenceOptions) {
    this.#options = options;
  }

  /** Aborted by the first signal: a start in progress (model lists being fetched) stops. */
  get startSignal(): AbortSignal {
    return this.#startAbort.signal;
  }

  /** True once a signal arrived. */
  get stopping(): boolean {
    return this.#firstSignal !== undefined;
  }

  /** Handle the stop signals from now on. */
  listen(): void {
    for (const signal of stopSignals) process.on(signal, this.#onSignal);
  }

  /** The start in progress; a stop waits for it to settle before closing what it made. */
  starting(start: Promise<RunningServer>): void {
    this.#started = start.then(
      (server) => server,
      () => undefined,
    );
  }

  /** Work done last on the way out (closing the demo upstream). */
  onExit(cleanup: () => Promise<void> | undefined): void {
    this.#cleanups.push(cleanup);
  }

  readonly #onSignal = (signal: StopSignal): void => {
    const { write, graceMs, logger } = this.#options;
    if (this.#firstSignal === undefined) {
      this.#firstSignal = signal;
      logger.info({ signal, graceMs }, "shutting down");
      write(
        `g4f-ts: ${signal}: shutting down; open requests have ${graceMs} ms to finish (a second signal ends them now)\n`,
      );
      this.#startAbort.abort(new AbortError({ message: `Stopped by ${signal}` }));
      // The last resort: nothing below may outlive the bound, whatever an upstream does.
      setTimeout(() => {
        write(
          `g4f-ts: the shutdown did not finish within ${graceMs + shutdownBoundMs} ms; exiting\n`,
        );
        this.#options.exit(1);
      }, graceMs + shutdownBoundMs).unref();
      void this.#stop();
      return;
    }
    if (this.#exitCode !== 0) return;
    this.#exitCode = forcedExitCode(signal);
    logger.info({ signal }, "ending the open requests now");
    write(`g4f-ts: ${signal} again: ending the open requests now\n`);
    void this.#started.then((server) => server?.closeNow());
  };

  async #stop(): Promise<void> {
    const server = await this.#started;
    if (server !== undefined) {
      if (this.#exitCode !== 0) await server.closeNow();
      else await server.close(this.#options.graceMs);
    }
    await closeDispatchersWithin(poolCloseMs);
    for (const cleanup of this.#cleanups) await cleanup();
    this.#options.logger.flush();
    this.#options.exit(this.#exitCode);
  }
}
