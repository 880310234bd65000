import { startTestServer, type TestServer } from "@g4f-ts/testkit";
import { drained } from "../src/http-responses.js";

export interface FirehoseUpstream {
  readonly server: TestServer;
  /** The character every piece of answer text is made of (found in no other part of a chunk). */
  readonly pieceCharacter: string;
  /**
   * The text length of each answer the upstream finished, by the request's first
   * message: what a client must have received in all.
   */
  readonly sentCharacters: Map<string, number>;
}

/**
 * An OpenAI-shaped SSE upstream that answers every chat request with pieces of
 * `pieceLength` characters as fast as its socket drains, for `durationMs`, then a
 * finish reason and `[DONE]`: the "firehose" of an adversarial upstream. Its frame is
 * made once, so it holds no memory of its own per stream.
 */
export async function startFirehoseUpstream(options: {
  pieceLength: number;
  durationMs: number;
}): Promise<FirehoseUpstream> {
  const pieceCharacter = "q";
  const piece = pieceCharacter.repeat(options.pieceLength);
  const frame = Buffer.from(
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: piece } }] })}\n\n`,
  );
  const closing = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`;
  const sentCharacters = new Map<string, number>();
  const server = await startTestServer(
    async (request, response) => {
      const name = String(
        (request.json as { messages?: { content?: unknown }[] } | undefined)?.messages?.[0]
          ?.content ?? request.index,
      );
      response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      const endAt = performance.now() + options.durationMs;
      let characters = 0;
      while (performance.now() < endAt) {
        if (response.destroyed) return;
        characters += options.pieceLength;
        if (!response.write(frame)) await drained(response);
      }
      if (response.destroyed) return;
      sentCharacters.set(name, characters);
      response.end(closing);
      // A busy test process may take more than the default second to read a request's
      // headers; the upstream must not answer 408 for that.
    },
    { idleConnectionTimeoutMs: 30_000 },
  );
  return { server, pieceCharacter, sentCharacters };
}
