/** A deadline a {@link DeadlineClock} wakes (a `DeadlineTimer`). */
export interface ClockedDeadline {
  /** When it is due, on the `performance.now()` clock; `Infinity` while it waits for nothing. */
  readonly due: number;
  /**
   * The clock found it due at `now`. Afterwards it is either off the clock or due
   * later than `now`.
   */
  expire(now: number): void;
}

/**
 * One `setTimeout` for the deadlines of the layers of one call: the registry's
 * attempt (first chunk, idle, total) and the core's HTTP call (first byte, idle,
 * total) each keep their own deadlines and errors, and the clock is armed for the
 * soonest of them. A deadline that moves later costs a field write: the timer,
 * when it fires before anything is due, arms itself again for the soonest left. A
 * deadline that moves sooner than the armed time re-arms it.
 *
 * When it fires, the deadlines that are due expire soonest first (in the order they
 * joined when two are due at the same time), as separate timers would fire: the
 * first may end the call and take the others off the clock.
 *
 * @example
 * const clock = new DeadlineClock();
 * const attempt = new DeadlineTimer(firstChunkMs, totalMs, attemptHandlers, clock);
 * const call = new DeadlineTimer(firstByteMs, callTotalMs, callHandlers, clock);
 * // one setTimeout is armed, for the sooner of the two
 */
export class DeadlineClock {
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires; `Infinity` when none is armed. */
  #armedFor = Number.POSITIVE_INFINITY;
  readonly #deadlines: ClockedDeadline[] = [];

  /** Put `deadline` on the clock (it must not be on it already). */
  add(deadline: ClockedDeadline, now: number): void {
    this.#deadlines.push(deadline);
    this.wakeBy(deadline.due, now);
  }

  /** A deadline on the clock is due at `due` now: arm the timer sooner if it must fire sooner. */
  wakeBy(due: number, now: number): void {
    if (due >= this.#armedFor) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(due - now)));
  }

  /** Take `deadline` off the clock; the timer stops with the last one. */
  remove(deadline: ClockedDeadline): void {
    const deadlines = this.#deadlines;
    const index = deadlines.lastIndexOf(deadline);
    if (index < 0) return;
    // The last to join is mostly the first to leave (a call's deadlines before its
    // attempt's): a pop, where a splice makes an array of what it removed.
    if (index === deadlines.length - 1) deadlines.pop();
    else deadlines.splice(index, 1);
    if (deadlines.length === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#armedFor = Number.POSITIVE_INFINITY;
    }
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const due = this.#deadlines.filter((deadline) => deadline.due <= now);
    if (due.length > 1) due.sort((left, right) => left.due - right.due);
    try {
      // Each at most once: one that ended the call may have taken the later ones off.
      for (const deadline of due) if (deadline.due <= now) deadline.expire(now);
    } finally {
      // Re-armed even when a handler throws: a clock shared by calls (see
      // `HttpCall`) must not leave the others' deadlines without a timer.
      let soonest = Number.POSITIVE_INFINITY;
      for (const deadline of this.#deadlines) if (deadline.due < soonest) soonest = deadline.due;
      this.wakeBy(soonest, now);
    }
  };
}
