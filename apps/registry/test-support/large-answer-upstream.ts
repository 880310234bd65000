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
    totalBytes: frameBytes * chunks + Buffer.byteLength(closing),
    textLength: pieceLength * chunks,
    bytesWritten: () => written,
    waitingForDrain: () => drainWaits,
  };
}
