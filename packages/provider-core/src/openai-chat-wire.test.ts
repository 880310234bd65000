import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer, waitUntil } from "../test-support/local-server.js";
import { closeDispatchers, sendRequest } from "./http-client.js";
import { readOpenAIChatResponse } from "./openai-chat-wire.js";
import {
  InvalidResponseError,
  RateLimitError,
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

const frame = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

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

  it("reads the first choice only, and a delta's content over a choice's text, as the reference does", async () => {
    const body =
      frame({ choices: [{ delta: { content: "one" } }, { delta: { content: "TWO" } }] }) +
      frame({ choices: [{ delta: { content: null }, text: "stray" }] }) +
      frame({ choices: [{ delta: { content: " done" }, text: "stray" }] }) +
      frame({ choices: [{ delta: {}, finish_reason: "stop" }, { finish_reason: "length" }] }) +
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
