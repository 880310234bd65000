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
 * @example
 * const timer = new DeadlineTimer(firstByteMs, totalMs, {
 *   onPhase: () => (waitingForUs ? idleMs : void fail("idle")),
 *   onTotal: () => fail("total"),
 * });
 * // on every piece: timer.movePhase(idleMs); at the end: timer.stop();
 */
export class DeadlineTimer {
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires. */
  #armedFor = 0;
  #phaseDeadline: number;
  readonly #totalDeadline: number;
  readonly #handlers: DeadlineHandlers;

  constructor(phaseMs: number, totalMs: number, handlers: DeadlineHandlers) {
    const now = performance.now();
    this.#phaseDeadline = now + phaseMs;
    this.#totalDeadline = now + totalMs;
    this.#handlers = handlers;
    this.#arm(now);
  }

  /** The phase deadline is now `timeoutMs` away; one sooner than the armed timer re-arms it. */
  movePhase(timeoutMs: number): void {
    if (this.#timer === undefined) return;
    const now = performance.now();
    this.#phaseDeadline = now + timeoutMs;
    if (this.#phaseDeadline < this.#armedFor) {
      clearTimeout(this.#timer);
      this.#arm(now);
    }
  }

  /** No deadline applies any more. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(now: number): void {
    const due = Math.min(this.#phaseDeadline, this.#totalDeadline);
    this.#armedFor = due;
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(due - now)));
  }

  readonly #onTimer = (): void => {
    if (this.#timer === undefined) return;
    this.#timer = undefined;
    const now = performance.now();
    if (now >= this.#totalDeadline) {
      this.#handlers.onTotal();
      return;
    }
    if (now >= this.#phaseDeadline) {
      const extendMs = this.#handlers.onPhase();
      // A handler that ended the call may have stopped the timer already.
      if (extendMs === undefined) return;
      this.#phaseDeadline = now + extendMs;
    }
    this.#arm(now);
  };
}
