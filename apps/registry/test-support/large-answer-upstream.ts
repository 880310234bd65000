import { startTestServer, type TestServer } from "@g4f-ts/testkit";
import { drained } from "../src/http-responses.js";

export interface LargeAnswerUpstream {
  readonly server: TestServer;
  /** Bytes of the whole SSE answer. */
  readonly totalBytes: number;
  /** Characters of the answer's text. */
  readonly textLength: number;
  /** Bytes the upstream has written so far (for the last request). */
  bytesWritten(): number;
  /** True while the upstream waits for its socket to drain: it feels backpressure. */
  waitingForDrain(): boolean;
  /**
   * Resolves with `bytesWritten()` once the upstream is stalled: waiting for `drain` with
   * the same byte count over `turns` event-loop turns in a row, each after an I/O poll (the
   * registry, this upstream and the test share one loop, so a turn in which the registry
   * reads moves the count). It also resolves when the answer has been written whole, so a
   * reader that never pushes back fails the test's byte bound instead of hanging it. Turns,
   * not a wall-clock window: on a loaded machine the turns come slower and still count.
   */
  stalled(turns?: number): Promise<number>;
}

/**
 * An OpenAI-shaped SSE upstream whose answer is `chunks` pieces of `pieceLength`
 * characters (megabytes in all). It writes one frame at a time and waits for
 * `drain` when its socket is full, so how far it got shows how far the reader
 * downstream pulled; the frames are made once, so the answer costs no memory here.
 */
export async function startLargeAnswerUpstream(
  chunks: number,
  pieceLength: number,
): Promise<LargeAnswerUpstream> {
  const piece = "x".repeat(pieceLength);
  const frame = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: piece } }] })}\n\n`;
  const frameBytes = Buffer.byteLength(frame);
  const closing = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`;
  const totalBytes = frameBytes * chunks + Buffer.byteLength(closing);
  let written = 0;
  let drainWaits = false;
  const server = await startTestServer(async (_request, response) => {
    written = 0;
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
    for (let index = 0; index < chunks; index++) {
      if (response.destroyed) return;
      written += frameBytes;
      if (!response.write(frame)) {
        drainWaits = true;
        await drained(response);
        drainWaits = false;
      }
    }
    written += Buffer.byteLength(closing);
    response.end(closing);
  });
  return {
    server,
    totalBytes,
    textLength: pieceLength * chunks,
    bytesWritten: () => written,
    waitingForDrain: () => drainWaits,
    stalled: async (turns = 20) => {
      let last = -1;
      let still = 0;
      while (still < turns) {
        // setTimeout, not setImmediate: a few ms a turn, so a kernel ack timer (~40 ms) cannot pose as a stall.
        await new Promise((resolve) => setTimeout(resolve, 10));
        const now = written;
        if (now === totalBytes && !drainWaits) return now;
        still = drainWaits && now === last ? still + 1 : 0;
        last = now;
      }
      return last;
    },
  };
}
