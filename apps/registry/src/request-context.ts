import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "./registry.js";
import type { AbortSource } from "./request-abort.js";

/** One request being answered: what every route handler gets. */
export interface RequestContext {
  readonly registry: Registry;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly requestId: string;
  /** Aborted when the client disconnects, or when a shutdown ends the request. */
  readonly signal: AbortSource;
  /** The registry's logger when warnings are logged at all (no child per request: lines name `requestId`). */
  readonly logger: Logger | undefined;
  /** True once a shutdown's grace period ended with this request still open. */
  endedByShutdown: boolean;
  /** The provider that answered, for the access log. */
  provider: string | undefined;
  /** Failed attempts before the answer, for the access log. */
  failedAttempts: number;
  /** Tokens the answer used (prompt and completion), for the key's `tpm` limit. */
  tokensUsed?: number;
  /**
   * True while `x-request-id` is still to be written, first, with the answer's head
   * (see `answerHead`) rather than set on the response before it; false once written.
   */
  requestIdPending?: boolean;
}
