import { afterAll, afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type LocalServer, startLocalServer } from "../test-support/local-server.js";
import { frame } from "../test-support/openai-sse-frames.js";
import { CallPipeline } from "./call-pipeline.js";
import { BatchedChunks, chunkBatchesOf } from "./chunk-batches.js";
import { closeDispatchers } from "./http-client.js";
import {
  AbortError,
  InvalidResponseError,
  ProviderError,
  type ProviderErrorOptions,
} from "./provider-errors.js";
import { InvalidOptionsError } from "./provider-options.js";
import { type Chunk, ImageResponse } from "./response-chunks.js";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(closeDispatchers);

const hello = [{ role: "user" as const, content: "Hi" }];

class ExampleOptionsError extends InvalidOptionsError {
  override readonly name = "ExampleOptionsError";
}

function pipeline() {
  return new CallPipeline({
    provider: "Example",
    options: { chatId: z.string().min(1).nullish() },
    optionsError: (options: ProviderErrorOptions & { field: string }) =>
      new ExampleOptionsError(options),
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
}

async function collect(chunks: AsyncIterable<Chunk>): Promise<{ chunks: Chunk[]; error: unknown }> {
  const seen: Chunk[] = [];
  try {
    for await (const chunk of chunks) seen.push(chunk);
    return { chunks: seen, error: undefined };
  } catch (error) {
    return { chunks: seen, error };
  }
}

function thrownBy(run: () => unknown): InvalidOptionsError {
  try {
    run();
  } catch (error) {
    if (InvalidOptionsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an InvalidOptionsError");
}

describe("the call options", () => {
  it("refuse a misspelled option, naming it and the closest known option", () => {
    const error = thrownBy(() => pipeline().start(hello, { temprature: 0.2 }));
    expect(error).toBeInstanceOf(ExampleOptionsError);
    expect(error.field).toBe("temprature");
    expect(error.message).toBe(
      'Example: invalid call option "temprature": not an option of Example. Did you mean "temperature"?',
    );
    expect(thrownBy(() => pipeline().start(hello, { chatID: "x" })).message).toContain(
      'Did you mean "chatId"?',
    );
  });

  it("read the provider's own options and the common ones, null as absent", () => {
    const call = pipeline().start(hello, { chatId: "c-1", temperature: null, maxTokens: 5 });
    expect(call.options).toMatchObject({ chatId: "c-1", temperature: null, maxTokens: 5 });
  });

  it("honour g4f's spellings of the sampling options, and refuse two values for one option", () => {
    const call = pipeline().start(hello, { max_tokens: 100, top_p: 0.5, frequency_penalty: 1 });
    expect(call.options).toMatchObject({ maxTokens: 100, topP: 0.5, frequencyPenalty: 1 });
    expect("max_tokens" in call.options).toBe(false);
    expect(pipeline().start(hello, { maxTokens: 7, max_tokens: 7 }).options.maxTokens).toBe(7);
    const error = thrownBy(() => pipeline().start(hello, { maxTokens: 7, max_tokens: 8 }));
    expect(error.field).toBe("max_tokens");
    expect(thrownBy(() => pipeline().start(hello, { top_p: "high" })).field).toBe("topP");
  });

  it("name a bad message's field", () => {
    const error = thrownBy(() => pipeline().start([{ role: "user" }] as never, {}));
    expect(error.field).toBe("messages.0.content");
  });
});

describe("a chat call", () => {
  it("retries a retryable failure with fresh per-attempt headers, and scrubs their secrets", async () => {
    let calls = 0;
    server = await startLocalServer((request, response) => {
      calls++;
      if (calls === 1) {
        response.writeHead(503, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: `busy ${request.headers["x-device"]}` } }));
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`${frame({ choices: [{ delta: { content: "ok" } }] })}data: [DONE]\n\n`);
    });
    let attempt = 0;
    const call = pipeline().start(hello, {});
    const { chunks, error } = await collect(
      call.chat({
        url: `${server.url}/chat`,
        body: { hello: true },
        headers: { "x-fixed": "1" },
        eachAttempt: () => {
          attempt++;
          return { headers: { "x-device": `device-${attempt}` }, secrets: [`device-${attempt}`] };
        },
      }),
    );
    expect(error).toBeUndefined();
    expect(chunks).toEqual(["ok"]);
    expect(server.requests.map((request) => request.headers["x-device"])).toEqual([
      "device-1",
      "device-2",
    ]);
    expect(server.requests[1]?.headers["x-fixed"]).toBe("1");
    expect(JSON.parse(server.requests[1]?.body ?? "")).toEqual({ hello: true });
  });

  it("never retries once content was passed on", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(frame({ choices: [{ delta: { reasoning_content: "think " } }] }));
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const call = pipeline().start(hello, {});
    const { chunks, error } = await collect(call.chat({ url: server.url, body: {} }));
    expect(chunks).toHaveLength(1);
    expect(server.requests).toHaveLength(1);
    // A retryable failure (the socket broke), not retried: the reasoning had been passed on.
    expect(ProviderError.isInstance(error) && error.retryable).toBe(true);
  });

  it("passes a failure through the provider's refinement", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(400, { "content-type": "application/json" });
      response.end('{"error":{"message":"bad"}}');
    });
    const call = pipeline().start(hello, {});
    const { error } = await collect(
      call.chat({ url: server.url, body: {}, refineError: () => new Error("refined") }),
    );
    expect((error as Error).message).toBe("refined");
  });

  it("refines a failure after content, passing the chunks before it first, in both views", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(
        `${frame({ choices: [{ delta: { content: "one" } }] })}${frame({ error: { message: "late" } })}`,
      );
    });
    const refined: unknown[] = [];
    const refineError = (error: unknown) => {
      refined.push(error);
      return new Error("refined");
    };
    const perChunk = await collect(
      pipeline().start(hello, {}).chat({ url: server.url, body: {}, refineError }),
    );
    expect(perChunk.chunks).toEqual(["one"]);
    expect((perChunk.error as Error).message).toBe("refined");

    const batches: (readonly Chunk[])[] = [];
    let batchError: unknown;
    try {
      const answer = pipeline().start(hello, {}).chat({ url: server.url, body: {}, refineError });
      for await (const batch of chunkBatchesOf(answer)) batches.push(batch);
    } catch (error) {
      batchError = error;
    }
    expect(batches.flat()).toEqual(["one"]);
    expect((batchError as Error).message).toBe("refined");
    expect(refined).toHaveLength(2);
    expect(refined.every((error) => ProviderError.isInstance(error))).toBe(true);
  });

  it("refines a reader's failure to open, and leaves an answer that ends well as it is", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`${frame({ choices: [{ delta: { content: "fine" } }] })}data: [DONE]\n\n`);
    });
    const refineError = () => new Error("refined");
    const failing = await collect(
      pipeline()
        .start(hello, {})
        .chat({
          url: server.url,
          body: {},
          refineError,
          read: () =>
            new BatchedChunks(() => {
              throw new Error("the reader could not start");
            }),
        }),
    );
    expect((failing.error as Error).message).toBe("refined");
    const fine = await collect(
      pipeline().start(hello, {}).chat({ url: server.url, body: {}, refineError }),
    );
    expect(fine).toEqual({ chunks: ["fine"], error: undefined });
  });

  it("reads nothing after a refined answer ended or was left", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`${frame({ choices: [{ delta: { content: "fine" } }] })}data: [DONE]\n\n`);
    });
    const answer = pipeline()
      .start(hello, {})
      .chat({ url: server.url, body: {}, refineError: () => new Error("refined") });
    const batches = chunkBatchesOf(answer)[Symbol.asyncIterator]();
    expect((await batches.next()).value).toEqual(["fine"]);
    expect(await batches.return?.()).toEqual({ done: true, value: undefined });
    expect(await batches.next()).toEqual({ done: true, value: undefined });
  });

  it("stops at once when the call's signal is already aborted", async () => {
    server = await startLocalServer((_request, response) => response.end("{}"));
    const controller = new AbortController();
    controller.abort();
    const call = pipeline().start(hello, { signal: controller.signal });
    const { error } = await collect(call.chat({ url: server.url, body: {} }));
    expect(AbortError.isInstance(error)).toBe(true);
  });
});

describe("an image call", () => {
  const schema = z.object({
    data: z.array(z.object({ url: z.string().nullish() })).nullish(),
    error: z.unknown().optional(),
  });
  const images = (answer: z.infer<typeof schema>) =>
    (answer.data ?? []).flatMap((item) => (item.url ? [item.url] : []));

  it("yields one ImageResponse with the URLs of the answer, the prompt as its alt", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ data: [{ url: "http://x/1.png" }, {}, { url: "http://x/2.png" }] }),
      );
    });
    const call = pipeline().start([{ role: "user", content: "a cat" }], {});
    const { chunks } = await collect(
      call.image({ url: server.url, body: {}, prompt: call.prompt(hello), schema, images }),
    );
    expect(chunks).toHaveLength(1);
    const image = chunks[0] as ImageResponse;
    expect(ImageResponse.isInstance(image)).toBe(true);
    expect(image.images).toEqual(["http://x/1.png", "http://x/2.png"]);
    expect(image.alt).toBe("Hi");
  });

  it("fails without retrying when the answer has no image URL, since a retry could pay again", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ data: [{ revised_prompt: "x" }] }));
    });
    const call = pipeline().start(hello, {});
    const { error } = await collect(
      call.image({ url: server.url, body: {}, prompt: "p", schema, images }),
    );
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as InvalidResponseError).retryable).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it("refuses a blank prompt as an invalid message", () => {
    const call = pipeline().start([{ role: "user", content: "  " }], {});
    const error = thrownBy(() => call.prompt([{ role: "user", content: "  " }]));
    expect(error.field).toBe("messages");
    expect(error).toBeInstanceOf(ExampleOptionsError);
  });
});
