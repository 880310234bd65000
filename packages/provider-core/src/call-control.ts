import { DeadlineClock } from "./deadline-clock.js";
import type { ProviderOptions } from "./provider.js";

/**
 * The key of `ProviderOptions` under which a caller hands a provider its
 * {@link CallControl}. A symbol, not a name: a provider that refuses options it
 * does not know (the core's `CallPipeline` before this key existed, or any strict
 * reader) enumerates only names, so the key reaches it without an error, and the
 * control's `signal` cancels its call as before.
 */
export const callControlKey: unique symbol = Symbol.for("g4f-ts.callControl");

type AbortListener = () => void;

/**
 * A cancellation that costs an object: `abort(reason)` tells the listeners once, in
 * the order they were added, as an `AbortSignal` tells its own, without an
 * `AbortController` (about 5 µs on Node 20) or an `EventTarget` listener. The
 * registry's cancellation of one HTTP request is one; a {@link CallControl} is one
 * with a signal and a clock.
 */
export class Cancellation {
  /** True once `abort` was called. */
  aborted = false;
  /** What `abort` was called with. */
  reason: unknown = undefined;
  #listeners: AbortListener[] = [];

  /** Call `listener` once when this aborts (not at all if it already has). */
  addEventListener(_type: "abort", listener: AbortListener): void {
    if (!this.aborted) this.#listeners.push(listener);
  }

  removeEventListener(_type: "abort", listener: AbortListener): void {
    const listeners = this.#listeners;
    const index = listeners.indexOf(listener);
    if (index < 0) return;
    // The last added is mostly the first removed (an HTTP call's, done before its
    // attempt): a pop, where a splice makes an array of what it removed.
    if (index === listeners.length - 1) listeners.pop();
    else listeners.splice(index, 1);
  }

  /** Cancel: tell the listeners, in order, once. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}

/**
 * The cancellation of one provider call, and the one timer its deadlines share
 * with the caller's: what a router (the registry's attempt) makes per call instead
 * of an `AbortController`, and hands down with {@link withCallControl}.
 *
 * - Cancellation: `abort(reason)` tells the listeners once, in the order they were
 *   added, as an `AbortSignal` tells its own. It costs an object where an
 *   `AbortController` and its signal cost about 5 µs on Node 20, and a listener is a
 *   push onto an array where an `EventTarget` listener costs far more.
 * - `signal`: a real `AbortSignal` aborted with the same reason, made only when read,
 *   for what needs one (a provider written against `signal` alone, a retry's wait).
 * - `clock`: the `DeadlineClock` the caller's own deadlines run on; the core's HTTP
 *   call puts its first-byte, idle and total deadlines on it too, so that one call
 *   arms one timer. Each deadline still fails with its own error.
 *
 * A provider built on this core's `CallPipeline` (and `sendRequest` given the
 * control) honours it directly and never reads `signal`; any other provider sees
 * `signal` alone.
 *
 * @example
 * const control = new CallControl();
 * const answer = provider.createAsyncGenerator(model, messages, withCallControl({ stream: true }, control));
 * // the client left:
 * control.abort(new AbortError({ message: "The client closed the request" }));
 */
export class CallControl extends Cancellation {
  /** The timer that the deadlines of the caller and of the call share (see `DeadlineClock`). */
  readonly clock = new DeadlineClock();
  #controller: AbortController | undefined;

  /** An `AbortSignal` that aborts with this control, made at the first read. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  /** Cancel the call: the listeners first, in order, then `signal`'s (if it was read). */
  override abort(reason: unknown): void {
    if (this.aborted) return;
    super.abort(reason);
    this.#controller?.abort(reason);
  }
}

/**
 * `options` for a call under `control`: the control under {@link callControlKey},
 * and `signal` as the control's own `signal`, made only when something reads it (a
 * `signal` of `options` is replaced). A provider of this core reads the control and
 * leaves `signal` unread; a provider that knows only `signal` reads it and is
 * cancelled as before.
 */
export function withCallControl<Options extends ProviderOptions>(
  options: Options,
  control: CallControl,
): Options & { readonly signal: AbortSignal; readonly [callControlKey]: CallControl } {
  // Copied with Object.assign and given one shared getter: on Node 20 an object
  // literal that spreads and then adds a getter (or any property) takes the runtime's
  // slow path, some 30 times the cost of this.
  const controlled = Object.assign({}, options) as Options & {
    signal: AbortSignal;
    [callControlKey]: CallControl;
  };
  controlled[callControlKey] = control;
  Object.defineProperty(controlled, "signal", controlSignalProperty);
  return controlled;
}

/** `signal` of options under a control: the control's own, made when read. */
const controlSignalProperty: PropertyDescriptor = {
  get(this: { [callControlKey]: CallControl }): AbortSignal {
    return this[callControlKey].signal;
  },
  enumerable: true,
  configurable: true,
};

/**
 * The `CallControl` `options` carry, when a caller handed one of this copy of the
 * core (see {@link withCallControl}). A control of another copy is left to its
 * `signal`, as any other provider would see it.
 */
export function callControlOf(options: unknown): CallControl | undefined {
  if (typeof options !== "object" || options === null) return undefined;
  const control = (options as { [callControlKey]?: unknown })[callControlKey];
  return control instanceof CallControl ? control : undefined;
}

/**
 * A copy of `options` to read as a record: with a control (see {@link callControlOf}),
 * its `signal` is left out unread, since reading it would make the `AbortSignal`
 * the control spares; otherwise `options` spread as they are.
 */
export function optionsRecord(options: object | null | undefined): Record<string, unknown> {
  if (callControlOf(options) === undefined) return { ...options } as Record<string, unknown>;
  const source = options as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  for (const key of Object.keys(source)) if (key !== "signal") record[key] = source[key];
  return record;
}
