import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { watchClientGone } from "./client-gone.js";
import { delay } from "./delay.js";

export interface PacedWriteOptions {
  /** Wait before the first piece, in ms. Default 0. */
  readonly firstDelayMs?: number;
  /** Wait before every later piece, in ms. Default 0. */
  readonly delayMs?: number;
  /** End the response after the last piece. Default true; false leaves it open to cut or hold. */
  readonly end?: boolean;
  /** Stops writing early when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Writes body pieces one by one with pauses between them, the single loop behind every
 * paced answer (SSE frames and dripped JSON alike). Headers are flushed first so a client
 * sees the status at once even when the first piece is late. Resolves true when every
 * piece was written, false when the client went away or `signal` aborted first.
 */
export async function writePaced(
  response: ServerResponse,
  pieces: readonly string[],
  options: PacedWriteOptions = {},
): Promise<boolean> {
  const clientGone = watchClientGone(response, options.signal);
  try {
    if (clientGone.signal.aborted) return false;
    response.flushHeaders();
    for (const [position, piece] of pieces.entries()) {
      await delay(
        position === 0 ? (options.firstDelayMs ?? 0) : (options.delayMs ?? 0),
        clientGone.signal,
      );
      if (clientGone.signal.aborted) return false;
      // Keep backpressure: a slow reader must slow the fake down, not grow its buffers.
      if (!response.write(piece)) {
        await once(response, "drain", { signal: clientGone.signal }).catch(() => undefined);
      }
    }
    if (clientGone.signal.aborted) return false;
    if (options.end ?? true) response.end();
    return true;
  } finally {
    clientGone.release();
  }
}
