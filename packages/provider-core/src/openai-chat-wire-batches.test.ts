import type { ServerResponse } from "node:http";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer, waitUntil } from "../test-support/local-server.js";
import { delta, finish, frame } from "../test-support/openai-sse-frames.js";
import { chunkBatchesOf } from "./chunk-batches.js";
import { closeDispatchers, sendRequest } from "./http-client.js";
import { readOpenAIChatResponse } from "./openai-chat-wire.js";
import {
  ProviderError,
  RateLimitError,
  ResponseStatusError,
  StreamInterruptedError,
} from "./provider-errors.js";
import type { Chunk } from "./response-chunks.js";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(closeDispatchers);

async function startStream(
  respond: (response: ServerResponse) => void,
  status = 200,
): Promise<LocalServer> {
  return startLocalServer((_request, response) => {
    response.writeHead(status, { "content-type": "text/event-stream" });
    respond(response);
  });
}

/** Every batch of an answer, and its failure. */
async function readBatches(
  answer: AsyncIterable<Chunk>,
): Promise<{ batches: (readonly Chunk[])[]; error: unknown }> {
  const batches: (readonly Chunk[])[] = [];
  try {
    for await (const batch of chunkBatchesOf(answer)) batches.push(batch);
    return { batches, error: undefined };
  } catch (error) {
    return { batches, error };
  }
}

/** Every chunk of the per-chunk view, and its failure. */
async function readChunks(
  answer: AsyncIterable<Chunk>,
): Promise<{ chunks: Chunk[]; error: unknown }> {
  const chunks: Chunk[] = [];
  try {
    for await (const chunk of answer) chunks.push(chunk);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

describe("readOpenAIChatResponse's batches", () => {
  it("hands over the same chunks as the per-chunk view however the body is cut into pieces", async () => {
    const body = `${delta("Hel")}${delta("lo, ")}${delta("world")}${finish}`;
    // One byte a write: the pieces the reader finds queued go out as one batch.
    server = await startStream((response) => {
      for (const byte of Buffer.from(body)) response.write(Buffer.from([byte]));
      response.end();
    });
    const url = server.url;
    const viaBatches = await readBatches(
      readOpenAIChatResponse(sendRequest({ provider: "Example", url, json: {} }), {
        provider: "Example",
      }),
    );
    const viaChunks = await readChunks(
      readOpenAIChatResponse(sendRequest({ provider: "Example", url, json: {} }), {
        provider: "Example",
      }),
    );
    expect(viaBatches.error).toBeUndefined();
    expect(viaChunks.error).toBeUndefined();
    expect(viaBatches.batches.flat()).toEqual(viaChunks.chunks);
    expect(viaChunks.chunks.filter((chunk) => typeof chunk === "string").join("")).toBe(
      "Hello, world",
    );
    for (const batch of viaBatches.batches) expect(batch.length).toBeGreaterThan(0);
  });

  it("passes the chunks before an error event in a batch before the error", async () => {
    server = await startStream((response) => {
      response.end(`${delta("partial")}${frame({ error: { message: "slow down", code: 429 } })}`);
    });
    const answer = readOpenAIChatResponse(
      sendRequest({ provider: "Example", url: server.url, json: {} }),
      { provider: "Example" },
    );
    const { batches, error } = await readBatches(answer);
    expect(batches.flat().filter((chunk) => typeof chunk === "string")).toEqual(["partial"]);
    expect(RateLimitError.isInstance(error)).toBe(true);
  });

  it("is done after its end and after a failure", async () => {
    server = await startStream((response) => response.end(`${delta("x")}${finish}`));
    const ended = chunkBatchesOf(
      readOpenAIChatResponse(sendRequest({ provider: "Example", url: server.url, json: {} }), {
        provider: "Example",
      }),
    )[Symbol.asyncIterator]();
    while (!(await ended.next()).done);
    expect(await ended.next()).toEqual({ done: true, value: undefined });

    const failed = chunkBatchesOf(
      readOpenAIChatResponse(
        sendRequest({
          provider: "Example",
          url: `${server.url}`,
          json: {},
          signal: AbortSignal.abort(),
        }),
        { provider: "Example" },
      ),
    )[Symbol.asyncIterator]();
    await expect(failed.next()).rejects.toBeInstanceOf(ProviderError);
    expect(await failed.next()).toEqual({ done: true, value: undefined });
  });

  it("runs a return() made while a read waits after that read, then releases the connection", async () => {
    let release: (() => void) | undefined;
    let closed = false;
    server = await startStream((response) => {
      response.flushHeaders();
      response.on("close", () => {
        closed = true;
      });
      release = () => response.write(delta("late"));
    });
    const batches = chunkBatchesOf(
      readOpenAIChatResponse(sendRequest({ provider: "Example", url: server.url, json: {} }), {
        provider: "Example",
      }),
    )[Symbol.asyncIterator]();
    const reading = batches.next();
    await waitUntil(() => release !== undefined);
    const leaving = (batches.return as () => Promise<IteratorResult<readonly Chunk[]>>)();
    release?.();
    const first = await reading;
    expect(first.done).toBe(false);
    expect((first.value as Chunk[]).filter((chunk) => typeof chunk === "string")).toEqual(["late"]);
    expect(await leaving).toEqual({ done: true, value: undefined });
    expect(await batches.next()).toEqual({ done: true, value: undefined });
    await waitUntil(() => closed);
  });

  it("passes each failure through refineError once: the request's, an error event's and a cut stream's", async () => {
    const refined: unknown[] = [];
    const refineError = (error: unknown) => {
      refined.push(error);
      return new Error(`refined: ${(error as Error).name}`, { cause: error });
    };
    const read = (url: string) =>
      readBatches(
        readOpenAIChatResponse(sendRequest({ provider: "Example", url, json: {} }), {
          provider: "Example",
          refineError,
        }),
      );

    server = await startStream((response) => response.end("nope"), 500);
    const status = await read(server.url);
    expect((status.error as Error).message).toBe("refined: ResponseStatusError");
    expect(ResponseStatusError.isInstance((status.error as Error).cause)).toBe(true);
    await server.close();

    server = await startStream((response) =>
      response.end(frame({ error: { message: "slow down", code: 429 } })),
    );
    const event = await read(server.url);
    expect((event.error as Error).message).toBe("refined: RateLimitError");
    await server.close();

    server = await startStream((response) => {
      response.write(delta("cut "));
      setImmediate(() => response.socket?.destroy());
    });
    const cut = await read(server.url);
    expect(cut.batches.flat()).toContain("cut ");
    expect((cut.error as Error).message).toBe("refined: StreamInterruptedError");
    expect(StreamInterruptedError.isInstance((cut.error as Error).cause)).toBe(true);
    expect(refined).toHaveLength(3);
  });
});
