import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer, waitUntil } from "../test-support/local-server.js";
import { frame } from "../test-support/openai-sse-frames.js";
import { settledHeapBytes } from "../test-support/settled-heap.js";
import { closeDispatchers, sendRequest } from "./http-client.js";
import { readOpenAIChatResponse } from "./openai-chat-wire.js";
import {
  InvalidResponseError,
  RateLimitError,
  ResponseTooLargeError,
  StreamInterruptedError,
  TimeoutError,
} from "./provider-errors.js";
import { type Chunk, type FinishReason, Reasoning, Usage } from "./response-chunks.js";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(closeDispatchers);

async function answer(
  contentType: string,
  body: string,
  destroyAfter = false,
): Promise<{ chunks: Chunk[]; error: unknown }> {
  server = await startLocalServer((_request, response) => {
    response.writeHead(200, { "content-type": contentType });
    if (destroyAfter) {
      response.write(body);
      setTimeout(() => response.socket?.destroy(), 20);
    } else {
      response.end(body);
    }
  });
  const response = await sendRequest({ provider: "Example", url: server.url, json: {} });
  const chunks: Chunk[] = [];
  try {
    for await (const chunk of readOpenAIChatResponse(response, { provider: "Example" }))
      chunks.push(chunk);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

/** An upstream that streams `frames` pieces of 16 KiB text as fast as its socket drains, then `ending`. */
async function startLongStream(frames: number, ending: "done" | "cut"): Promise<LocalServer> {
  const piece = frame({ choices: [{ delta: { content: "z".repeat(16 * 1024) } }] });
  return startLocalServer(async (_request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" });
    for (let index = 0; index < frames; index++) {
      if (response.destroyed) return;
      if (!response.write(piece)) await new Promise((resolve) => response.once("drain", resolve));
    }
    if (ending === "cut") response.socket?.destroy();
    else
      response.end(`${frame({ choices: [{ delta: {}, finish_reason: "stop" }] })}data: [DONE]\n\n`);
  });
}

describe("readOpenAIChatResponse", () => {
  it("streams deltas, reasoning, the finish reason and usage from SSE", async () => {
    const body =
      frame({ choices: [{ delta: { reasoning_content: "thinking" } }] }) +
      frame({ choices: [{ delta: { content: "Hel" } }] }) +
      frame({ choices: [{ text: "lo" }] }) +
      frame({ choices: [{ delta: { content: "" } }] }) +
      frame({ choices: [{ delta: {}, finish_reason: "stop" }] }) +
      frame({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }) +
      "data: [DONE]\n\n";
    const { chunks, error } = await answer("text/event-stream; charset=utf-8", body);
    expect(error).toBeUndefined();
    expect(chunks[0]).toBeInstanceOf(Reasoning);
    expect(chunks.slice(1, 3)).toEqual(["Hel", "lo"]);
    expect((chunks[3] as FinishReason).reason).toBe("stop");
    expect(chunks[4]).toBeInstanceOf(Usage);
    expect((chunks[4] as Usage).totalTokens).toBe(5);
  });

  it("reads a delta's content over a choice's text, as the reference does", async () => {
    const body =
      frame({ choices: [{ delta: { content: "one" } }] }) +
      frame({ choices: [{ delta: { content: null }, text: "stray" }] }) +
      frame({ choices: [{ delta: { content: " done" }, text: "stray" }] }) +
      frame({ choices: [{ delta: {}, finish_reason: "stop" }] }) +
      "data: [DONE]\n\n";
    const { chunks, error } = await answer("text/event-stream", body);
    expect(error).toBeUndefined();
    expect(chunks.slice(0, 2)).toEqual(["one", " done"]);
    expect(chunks).toHaveLength(3);
    expect((chunks[2] as FinishReason).reason).toBe("stop");
  });

  it("reads a JSON answer's message over its text", async () => {
    const body = JSON.stringify({
      choices: [{ message: { content: null }, text: "stray", finish_reason: "stop" }],
    });
    const { chunks } = await answer("application/json", body);
    expect(chunks).toHaveLength(1);
    expect((chunks[0] as FinishReason).reason).toBe("stop");
  });

  it("reads a plain JSON chat.completion (the reference's lost answer)", async () => {
    const body = JSON.stringify({
      choices: [{ message: { content: "Whole answer" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 1, completion_tokens: 2 },
    });
    const { chunks } = await answer("application/json", body);
    expect(chunks[0]).toBe("Whole answer");
    expect((chunks[1] as FinishReason).reason).toBe("stop");
    expect((chunks[2] as Usage).totalTokens).toBe(3);
  });

  it("reads SSE sent with a JSON content type", async () => {
    const { chunks } = await answer(
      "application/json",
      `${frame({ choices: [{ delta: { content: "x" } }] })}data: [DONE]\n\n`,
    );
    expect(chunks).toEqual(["x"]);
  });

  it("raises StreamInterruptedError with the text so far when the stream ends without [DONE] or a finish reason", async () => {
    const { chunks, error } = await answer(
      "text/event-stream",
      frame({ choices: [{ delta: { content: "half an" } }] }),
    );
    expect(chunks).toEqual(["half an"]);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).partialText).toBe("half an");
  });

  it("raises StreamInterruptedError when the socket breaks after text", async () => {
    const { error } = await answer(
      "text/event-stream",
      frame({ choices: [{ delta: { content: "cut" } }] }),
      true,
    );
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).partialText).toBe("cut");
  });

  it("raises StreamInterruptedError, with the timeout as its cause, when the stream stalls after text", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(frame({ choices: [{ delta: { content: "stalled" } }] }));
    });
    const response = await sendRequest({
      provider: "Example",
      url: server.url,
      json: {},
      timeouts: { idleMs: 100 },
    });
    const chunks: Chunk[] = [];
    const error = await (async () => {
      for await (const chunk of readOpenAIChatResponse(response, { provider: "Example" }))
        chunks.push(chunk);
    })().catch((caught: unknown) => caught);
    expect(chunks).toEqual(["stalled"]);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).partialText).toBe("stalled");
    expect((error as Error).cause).toBeInstanceOf(TimeoutError);
  });

  it("keeps a stream's memory flat however long it runs: counts, not text", async () => {
    // 32 MB of text in 2,048 pieces of 16 KiB.
    server = await startLongStream(2048, "done");
    const response = await sendRequest({ provider: "Example", url: server.url, json: {} });
    let characters = 0;
    let pieces = 0;
    let baseline = 0;
    let held = 0;
    for await (const chunk of readOpenAIChatResponse(response, { provider: "Example" })) {
      if (typeof chunk !== "string") continue;
      characters += chunk.length;
      pieces++;
      if (pieces === 64) baseline = settledHeapBytes();
      if (pieces === 2048) held = settledHeapBytes() - baseline;
    }
    expect(characters).toBe(2048 * 16 * 1024);
    // Keeping the text would hold the 31 MB that arrived between the two measures.
    expect(held).toBeLessThan(4 * 1024 * 1024);
  });

  it("reports a long stream cut off with its character count and only the end of its text", async () => {
    server = await startLongStream(1024, "cut");
    const response = await sendRequest({ provider: "Example", url: server.url, json: {} });
    let characters = 0;
    const error = await (async () => {
      for await (const chunk of readOpenAIChatResponse(response, { provider: "Example" }))
        if (typeof chunk === "string") characters += chunk.length;
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    const interrupted = error as StreamInterruptedError;
    expect(interrupted.receivedCharacters).toBe(characters);
    expect(characters).toBe(1024 * 16 * 1024);
    expect(interrupted.partialText).toBe("z".repeat(4096));
    expect(interrupted.message).toContain(`${characters} characters`);
  });

  it("fails with ResponseTooLargeError, and stops reading, when an SSE line never ends", async () => {
    let written = 0;
    server = await startLocalServer(async (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write("data: ");
      const filler = "w".repeat(64 * 1024);
      // Up to 64 MB without a line break; the reader must give up long before.
      for (let index = 0; index < 1024; index++) {
        if (response.destroyed) return;
        written += filler.length;
        if (!response.write(filler))
          await new Promise((resolve) => response.once("drain", resolve));
      }
      response.end();
    });
    const response = await sendRequest({ provider: "Example", url: server.url, json: {} });
    const error = await (async () => {
      for await (const _ of readOpenAIChatResponse(response, { provider: "Example" })) {
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as ResponseTooLargeError).limit).toBe(8 * 1024 * 1024);
    expect((error as Error).message).toContain("maxEventBytes");
    expect((error as Error).message).toContain(String(8 * 1024 * 1024));
    await waitUntil(() => server?.sockets.size === 0);
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  it("accepts a stream that ends with a finish reason but no [DONE]", async () => {
    const { error } = await answer(
      "text/event-stream",
      frame({ choices: [{ delta: { content: "a" } }] }) +
        frame({ choices: [{ delta: {}, finish_reason: "length" }] }),
    );
    expect(error).toBeUndefined();
  });

  it("throws the error object of a JSON answer as a typed error", async () => {
    const { error } = await answer(
      "application/json",
      JSON.stringify({ error: { message: "slow", code: "rate_limit_exceeded" } }),
    );
    expect(error).toBeInstanceOf(RateLimitError);
  });

  it("refuses an event or an answer whose index is a number too large for a double (1e999), as the schema does", async () => {
    const event = `data: {"choices":[{"index":1e999,"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n`;
    const streamed = await answer("text/event-stream", event);
    expect(streamed.error).toBeInstanceOf(InvalidResponseError);
    expect(streamed.chunks).toEqual([]);
    const whole = await answer(
      "application/json",
      '{"choices":[{"index":1e999,"message":{"content":"x"},"finish_reason":"stop"}]}',
    );
    expect(whole.error).toBeInstanceOf(InvalidResponseError);
    expect((whole.error as Error).message).toContain("unexpected shape");
  });

  it("says when the body is neither JSON nor SSE", async () => {
    const { error } = await answer("text/html", "<html>oops</html>");
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain("neither JSON nor SSE");
  });

  it("reads from the promise of a response, and closes the response when the reader stops early", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(frame({ choices: [{ delta: { content: "first" } }] }));
      // The rest never comes: only closing the response frees the socket.
    });
    const reader = readOpenAIChatResponse(
      sendRequest({ provider: "Example", url: server.url, json: {} }),
      { provider: "Example" },
    );
    const first = await reader.next();
    expect(first.value).toBe("first");
    await reader.return(undefined);
    await waitUntil(() => server?.sockets.size === 0, 2_000);
  });

  it("gives a one-delta answer whose pieces were all queued, and returns its socket to the pool", async () => {
    let connections = 0;
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      // The whole answer in one write: it is queued before the reader asks for it.
      response.end(
        `${frame({ choices: [{ delta: { content: "Hi" }, finish_reason: "stop" }] })}data: [DONE]\n\n`,
      );
    });
    server.server.on("connection", () => connections++);
    for (let index = 0; index < 20; index++) {
      const chunks: Chunk[] = [];
      for await (const chunk of readOpenAIChatResponse(
        sendRequest({ provider: "Example", url: server.url, json: {} }),
        { provider: "Example" },
      ))
        chunks.push(chunk);
      expect(chunks.slice(0, 2)).toEqual(["Hi", expect.objectContaining({ reason: "stop" })]);
    }
    // A body read to its end goes back to the pool; a closed one would cost a socket per call.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it("reads a body that trails [DONE] with bytes arriving later to its end, and keeps the socket", async () => {
    let connections = 0;
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(
        `${frame({ choices: [{ delta: { content: "Hi" }, finish_reason: "stop" }] })}data: [DONE]\n\n`,
      );
      // The trailing bytes and the end come in a later turn: the drain must await them.
      setImmediate(() => response.end(": trailing comment\n\n"));
    });
    server.server.on("connection", () => connections++);
    for (let index = 0; index < 5; index++) {
      const chunks: Chunk[] = [];
      for await (const chunk of readOpenAIChatResponse(
        sendRequest({ provider: "Example", url: server.url, json: {} }),
        { provider: "Example" },
      ))
        chunks.push(chunk);
      expect(chunks[0]).toBe("Hi");
    }
    // Closed bodies would cost a socket each; undici may open a second one when a call
    // goes out in the same turn the previous one frees its socket.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it("leaves no unhandled rejection when a reader of a failed request is never started", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      readOpenAIChatResponse(sendRequest({ provider: "Example", url: "http://127.0.0.1:1/" }), {
        provider: "Example",
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
