import { CandidateStatistics } from "./candidate-statistics.js";
import { LocalKeyLimits } from "./rate-window.js";
import type {
  AdmissionDecision,
  KeyLimits,
  SharedAttemptEvent,
  StateStatus,
  StateStore,
} from "./state-store.js";

const localStatus: StateStatus = {
  backend: "memory",
  status: "local",
  since: null,
  lastError: null,
  errors: 0,
};

/** The state of one registry process alone: nothing is shared, nothing leaves the process. */
export class MemoryStateStore implements StateStore {
  readonly statistics = new CandidateStatistics();
  readonly limits = new LocalKeyLimits();

  status(): StateStatus {
    return localStatus;
  }

  onStatusChange(_listener: (status: StateStatus) => void): void {}

  publishAttempt(_event: SharedAttemptEvent): void {}

  onRemoteAttempt(_listener: (event: SharedAttemptEvent) => void): void {}

  beginAttempt(provider: string, model: string): () => void {
    return this.statistics.begin(provider, model);
  }

  inFlight(provider: string, model: string): number {
    return this.statistics.inFlightOf(provider, model);
  }

  recordFirstContent(provider: string, model: string, elapsedMs: number): void {
    this.statistics.recordFirstContent(provider, model, elapsedMs);
  }

  latencyMs(provider: string, model: string): number | undefined {
    return this.statistics.latencyOf(provider, model);
  }

  admitRequest(
    keyId: string,
    limits: KeyLimits,
    requestId: string,
    now: number,
  ): Promise<AdmissionDecision> {
    return Promise.resolve(this.limits.admit(keyId, limits, requestId, now));
  }

  finishRequest(
    keyId: string,
    limits: KeyLimits,
    requestId: string,
    tokens: number,
    now: number,
  ): void {
    this.limits.finish(keyId, limits, requestId, tokens, now);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
