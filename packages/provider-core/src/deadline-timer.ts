import { type ClockedDeadline, DeadlineClock } from "./deadline-clock.js";

/** What a {@link DeadlineTimer} calls when a deadline passes. */
export interface DeadlineHandlers {
  /**
   * The phase deadline passed (no first byte yet, or no next piece in time). Return
   * a number of milliseconds to move it on by (the wait was not the upstream's), or
   * undefined once the call has been ended.
   */
  onPhase(): number | undefined;
  /** The total deadline passed; the call is ended. */
  onTotal(): void;
}

/**
 * The deadlines of one call on one timer: a phase deadline that moves (first byte,
 * then the gap to the next piece) and a fixed total one. Moving the phase deadline
 * later is a field write; the timer, when it fires early, arms itself again for
 * what is left. So a stream of thousands of pieces costs one timer, not a timer
 * operation per piece.
 *
 * Given a `clock` (a caller's, see `CallControl`), its deadlines share that clock's
 * one timer with the caller's own; without one it has a timer of its own.
 *
 * @example
 * const timer = new DeadlineTimer(firstByteMs, totalMs, {
 *   onPhase: () => (waitingForUs ? idleMs : void fail("idle")),
 *   onTotal: () => fail("total"),
 * });
 * // on every piece: timer.movePhase(idleMs); at the end: timer.stop();
 */
export class DeadlineTimer implements ClockedDeadline {
  /** The sooner of the two deadlines, while they run. */
  due: number;
  /** False once stopped, and while a handler decides. */
  #running = true;
  #phaseDeadline: number;
  readonly #totalDeadline: number;
  readonly #handlers: DeadlineHandlers;
  readonly #clock: DeadlineClock;

  constructor(
    phaseMs: number,
    totalMs: number,
    handlers: DeadlineHandlers,
    clock: DeadlineClock = new DeadlineClock(),
  ) {
    const now = performance.now();
    this.#phaseDeadline = now + phaseMs;
    this.#totalDeadline = now + totalMs;
    this.due = Math.min(this.#phaseDeadline, this.#totalDeadline);
    this.#handlers = handlers;
    this.#clock = clock;
    clock.add(this, now);
  }

  /** The phase deadline is now `timeoutMs` away; one sooner than the armed timer re-arms it. */
  movePhase(timeoutMs: number): void {
    if (!this.#running) return;
    const now = performance.now();
    this.#phaseDeadline = now + timeoutMs;
    this.due = Math.min(this.#phaseDeadline, this.#totalDeadline);
    this.#clock.wakeBy(this.due, now);
  }

  /** No deadline applies any more. */
  stop(): void {
    this.#running = false;
    this.due = Number.POSITIVE_INFINITY;
    this.#clock.remove(this);
  }

  /** Called by the clock: a deadline passed. */
  expire(now: number): void {
    if (!this.#running) return;
    if (now >= this.#totalDeadline) {
      this.stop();
      this.#handlers.onTotal();
      return;
    }
    if (now < this.#phaseDeadline) return;
    this.#running = false;
    this.due = Number.POSITIVE_INFINITY;
    const extendMs = this.#handlers.onPhase();
    // A handler that ended the call may have stopped the timer already.
    if (extendMs === undefined) {
      this.#clock.remove(this);
      return;
    }
    this.#running = true;
    this.#phaseDeadline = now + extendMs;
    this.due = Math.min(this.#phaseDeadline, this.#totalDeadline);
    this.#clock.wakeBy(this.due, now);
  }
}
