import type { Logger } from "pino";
import type { FailureBlame } from "./failure-attribution.js";
import type { AttemptReport } from "./http-errors.js";
import type { Candidate } from "./model-router.js";

/** Who made the request the events are about: what observers name in logs and cooldowns. */
export interface ObservedRequest {
  readonly requestId?: string;
  readonly client?: string;
  /** Where failed attempts are logged, when logging is on. */
  readonly logger?: Logger | undefined;
}

/** A candidate skipped because its provider is cooling down. */
export interface SkippedAttemptEvent {
  readonly candidate: Candidate;
  readonly request: ObservedRequest;
  readonly report: AttemptReport;
  readonly remainingMs: number;
}

/** A provider is being called (after the cooldown check): every started attempt ends in one success, failure or cancel event. */
export interface StartedAttemptEvent {
  readonly candidate: Candidate;
  readonly request: ObservedRequest;
}

/** An attempt that reached its first content chunk (its commit point). */
export interface FirstContentEvent {
  readonly candidate: Candidate;
  readonly request: ObservedRequest;
  readonly elapsedMs: number;
}

/** A committed attempt whose answer ended well. */
export interface SucceededAttemptEvent {
  readonly candidate: Candidate;
  readonly request: ObservedRequest;
  readonly elapsedMs: number;
  /** The prompt's length in characters. */
  readonly promptCharacters: number;
}

/** A failed attempt, before or after its commit point. */
export interface FailedAttemptEvent {
  readonly candidate: Candidate;
  readonly request: ObservedRequest;
  readonly report: AttemptReport;
  readonly error: unknown;
  /** Whom the failure is laid on: only `provider` failures count towards a cooldown. */
  readonly blame: FailureBlame;
  /** The upstream's `retry-after`, in seconds, when it sent one. */
  readonly retryAfterSeconds: number | undefined;
  readonly elapsedMs: number;
}

/** An attempt stopped because the client left (before or after its commit point): neither success nor failure. */
export interface CancelledAttemptEvent {
  readonly candidate: Candidate;
  readonly request: ObservedRequest;
  readonly elapsedMs: number;
}

/** The run moved past a candidate to the next one. */
export interface FellBackEvent {
  readonly candidate: Candidate;
  readonly request: ObservedRequest;
}

/**
 * What the fallback engine reports of each attempt and its outcome. The engine
 * decides; the metrics, the log and the cooldown tracker each subscribe with an
 * observer (see `fallback-observers.ts`) rather than being written by it. Observers
 * are called synchronously, in the order given, before the engine goes on: the
 * cooldown one has recorded a failure when the engine next asks how long a
 * provider cools down.
 */
export interface FallbackObserver {
  attemptSkipped?(event: SkippedAttemptEvent): void;
  attemptStarted?(event: StartedAttemptEvent): void;
  firstContent?(event: FirstContentEvent): void;
  attemptSucceeded?(event: SucceededAttemptEvent): void;
  attemptFailed?(event: FailedAttemptEvent): void;
  attemptCancelled?(event: CancelledAttemptEvent): void;
  fellBack?(event: FellBackEvent): void;
}
