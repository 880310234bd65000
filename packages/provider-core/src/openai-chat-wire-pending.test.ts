import { createHook } from "node:async_hooks";
import { describe, expect, it } from "vitest";
import { localServersPerTest, waitUntil } from "../test-support/local-server.js";
import { delta, finish } from "../test-support/openai-sse-frames.js";
import { CallControl } from "./call-control.js";
import { CallPipeline } from "./call-pipeline.js";
import { chunkBatchesOf } from "./chunk-batches.js";
import { type HttpRequestOptions, sendRequest, startRequest } from "./http-client.js";
import { readOpenAIChatAnswer, readOpenAIChatResponse } from "./openai-chat-wire.js";
import type { Chunk } from "./response-chunks.js";

const { serve } = localServersPerTest();

/** Every batch of an answer, and its failure as the reader sees it (class, message, status). */
async function readAll(answer: AsyncIterable<Chunk>) {
  const batches: (readonly Chunk[])[] = [];
  try {
    for await (const batch of chunkBatchesOf(answer)) batches.push(batch);
    return { batches, error: undefined };
  } catch (error) {
    const { name, message, status } = error as { name: string; message: string; status?: number };
    return { batches, error: { name, message, status } };
  }
}

/** The same request read through the pending call and through `sendRequest`'s promise. */
async function bothWays(options: HttpRequestOptions) {
  const pending = await readAll(
    readOpenAIChatAnswer(startRequest(options), { provider: options.provider }),
  );
  const promised = await readAll(
    readOpenAIChatResponse(sendRequest(options), { provider: options.provider }),
  );
  return { pending, promised };
}

describe("a chat answer read from a pending call (startRequest)", () => {
  it("gives the same batches as the promise of sendRequest for a stream in one write", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`${delta("Hello")}${delta(", world")}${finish}`);
    });
    const { pending, promised } = await bothWays({
      provider: "Example",
      url: server.url,
      json: {},
    });
    expect(pending).toEqual(promised);
    expect(pending.error).toBeUndefined();
    expect(pending.batches.flat().filter((chunk) => typeof chunk === "string")).toEqual([
      "Hello",
      ", world",
    ]);
  });

  it("gives the same batches as the promise of sendRequest for a stream written a byte at a time", async () => {
    const body = `${delta("Hel")}${delta("lo")}${finish}`;
    const server = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      for (const byte of Buffer.from(body)) response.write(Buffer.from([byte]));
      response.end();
    });
    const { pending, promised } = await bothWays({
      provider: "Example",
      url: server.url,
      json: {},
    });
    expect(pending.error).toBeUndefined();
    expect(pending.batches.flat()).toEqual(promised.batches.flat());
  });

  it("gives the same chunks as the promise of sendRequest for a JSON answer", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          id: "b",
          choices: [{ index: 0, message: { content: "Hi" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
    const { pending, promised } = await bothWays({
      provider: "Example",
      url: server.url,
      json: {},
    });
    expect(pending).toEqual(promised);
    expect(pending.batches.flat()).toContain("Hi");
  });

  it("fails with the same status error as the promise of sendRequest when the upstream answers 503", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(503, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "overloaded" } }));
    });
    const { pending, promised } = await bothWays({
      provider: "Example",
      url: server.url,
      json: {},
    });
    expect(pending).toEqual(promised);
    expect(pending.error).toMatchObject({ status: 503 });
  });

  it("fails with the same error as the promise of sendRequest when nothing listens on the port", async () => {
    const server = await serve(() => {});
    const url = server.url;
    await server.close();
    const { pending, promised } = await bothWays({ provider: "Example", url, json: {} });
    expect(pending).toEqual(promised);
    expect(pending.error).toMatchObject({ name: "ConnectionError" });
  });

  it("fails with the same error as the promise of sendRequest when the request is refused before it is sent", async () => {
    const { pending, promised } = await bothWays({
      provider: "Example",
      url: "not a url",
      json: {},
    });
    expect(pending).toEqual(promised);
    expect(pending.error).toBeDefined();
  });

  it("fails with an AbortError when the caller's control aborts while the answer is awaited", async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const control = new CallControl();
    const reading = readAll(
      readOpenAIChatAnswer(
        startRequest({ provider: "Example", url: server.url, json: {}, control }),
        {
          provider: "Example",
        },
      ),
    );
    control.abort(new Error("the client left"));
    expect(await reading).toEqual({
      batches: [],
      error: expect.objectContaining({ name: "AbortError" }),
    });
  });

  it("waits for its answer with two promises fewer than through sendRequest's promise", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`${delta("Hello")}${finish}`);
    });
    const options = { provider: "Example", url: server.url, json: {} };
    // The fewest over several reads: anything else the process does meanwhile (the
    // test server, the runner) only ever adds promises to a read's count.
    const promisesOf = async (read: () => Promise<unknown>) => {
      await read(); // a warm connection
      let fewest = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 20; round++) {
        let promises = 0;
        const hook = createHook({
          init(_id, type) {
            if (type === "PROMISE") promises++;
          },
        });
        hook.enable();
        await read();
        hook.disable();
        fewest = Math.min(fewest, promises);
      }
      return fewest;
    };
    const viaPending = await promisesOf(() =>
      readAll(readOpenAIChatAnswer(startRequest(options), { provider: "Example" })),
    );
    const viaPromise = await promisesOf(() =>
      readAll(readOpenAIChatResponse(sendRequest(options), { provider: "Example" })),
    );
    // The start's promise, the reaction that read the answer and the one that kept
    // the start's failure handled: one promise of the reader's first step instead.
    expect(viaPromise - viaPending).toBe(2);
  });
});

describe("a pipeline's chat answer left before its first read", () => {
  it("releases the request its opened batches sent, rather than holding it to its deadline", async () => {
    let closed = false;
    let received = false;
    const server = await serve((request) => {
      received = true;
      // Never answers; notes when the client lets go of the request.
      request.socket.on("close", () => {
        closed = true;
      });
    });
    const pipeline = new CallPipeline({ provider: "Example", retry: { maxAttempts: 1 } });
    const call = pipeline.start([{ role: "user", content: "Hi" }], { stream: true });
    const batches = chunkBatchesOf(call.chat({ url: server.url, body: {} }))[
      Symbol.asyncIterator
    ]();
    await waitUntil(() => received);
    expect(await batches.return?.()).toEqual({ done: true, value: undefined });
    await waitUntil(() => closed);
    expect(closed).toBe(true);
  });
});
