import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  type AsyncResult,
  BatchedChunks,
  NativeResponseText,
  type Provider,
  type ResponsesPassthroughProvider,
} from "@g4f-ts/provider-core";
import { afterEach, describe, expect, it } from "vitest";
import { InMemoryProvider } from "../test-support/in-memory-provider.js";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";
import type { FallbackObserver } from "./fallback-observer.js";
import { createRegistry } from "./registry.js";
import { type RunningServer, startServer } from "./server.js";

let server: RunningServer | undefined;

afterEach(async () => {
  await server?.closeNow();
  server = undefined;
});

/**
 * A registry server whose provider `a` answers `script` ("Hello" then " world"), with one
 * more observer that writes the run's events into `events`, and every write of
 * an answer's body to the client too ("write …", "end …"), in the order they happen.
 */
async function serveRecording(
  script: Parameters<typeof scriptedProvider>[0]["script"] = [["Hello", " world"]],
  provider: Provider = scriptedProvider({ id: "a", script }),
): Promise<{ url: string; events: string[] }> {
  const events: string[] = [];
  const registry = await createRegistry({ discover: false, providers: [provider] });
  const recorder: FallbackObserver = {
    attemptStarted: () => events.push("started"),
    firstContent: ({ elapsedMs }) =>
      events.push(`first content${elapsedMs >= 0 ? "" : " (no time)"}`),
    attemptSucceeded: ({ elapsedMs }) =>
      events.push(`succeeded${elapsedMs >= 0 ? "" : " (no time)"}`),
    attemptFailed: () => events.push("failed"),
    attemptCancelled: () => events.push("cancelled"),
  };
  // The registry's list grows by one: the run lists its observers again (see observersByKind).
  (registry.fallbackSettings.observers as FallbackObserver[]).push(recorder);
  server = await startServer({ registry, port: 0 });
  server.httpServer.prependListener("request", (_request, response: ServerResponse) => {
    const write = response.write.bind(response) as (text: string) => boolean;
    const end = response.end.bind(response) as (text?: string) => ServerResponse;
    response.write = ((text: string) => {
      events.push(`write ${text.includes("Hello") ? "Hello" : "more"}`);
      return write(text);
    }) as typeof response.write;
    response.end = ((text?: string) => {
      events.push(`end ${text?.includes("Hello") ? "Hello" : "more"}`);
      return end(text);
    }) as typeof response.end;
  });
  return { url: server.url, events };
}

async function ask(url: string, stream: boolean, model = "test-model"): Promise<string> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      stream,
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
  expect(response.status).toBe(200);
  return response.text();
}

describe("a chat answer's bookkeeping", () => {
  it("of a success comes after a JSON answer was written, in the same order of events", async () => {
    const { url, events } = await serveRecording();
    const text = await ask(url, false);
    expect(JSON.parse(text).choices[0].message.content).toBe("Hello world");
    expect(events).toEqual(["started", "first content", "end Hello", "succeeded"]);
  });

  it("comes after a stream's first events and its last ones were handed to the socket", async () => {
    // The second chunk comes in a later turn of the event loop than the first.
    const { url, events } = await serveRecording([["Hello", { wait: 20 }, " world"]]);
    const text = await ask(url, true);
    expect(text).toContain('"content":"Hello"');
    expect(text).toContain('"content":" world"');
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(events).toEqual(["started", "write Hello", "first content", "end more", "succeeded"]);
  });

  it("keeps its order when a stream's whole answer comes in one turn", async () => {
    const { url, events } = await serveRecording();
    const text = await ask(url, true);
    expect(text).toContain('"content":"Hello"');
    // The first events leave before the rest of the turn; the other chunk and the end after.
    expect(events).toEqual(["started", "write Hello", "first content", "end more", "succeeded"]);
  });

  it("hands a stream's first events to the socket before it reads on from the provider", async () => {
    let socket: Socket | undefined;
    const reads: string[] = [];
    const registry = await createRegistry({
      discover: false,
      providers: [
        new ProbeProvider(() => {
          const sent =
            socket !== undefined && socket.bytesWritten > 0 && socket.writableLength === 0;
          reads.push(`read on, first events sent: ${sent}`);
        }),
      ],
    });
    server = await startServer({ registry, port: 0 });
    server.httpServer.prependListener("request", (request) => {
      socket = request.socket;
    });
    const text = await ask(server.url, true, "probe-1");
    expect(text).toContain('"content":"Hello"');
    expect(text).toContain('"content":" world"');
    expect(reads).toEqual(["read on, first events sent: true"]);
  });

  it("sends with a stream's first events the rest of the provider's read that carried them", async () => {
    const writes: string[] = [];
    const registry = await createRegistry({ discover: false, providers: [new BatchProvider()] });
    server = await startServer({ registry, port: 0 });
    server.httpServer.prependListener("request", (_request, response: ServerResponse) => {
      const write = response.write.bind(response) as (text: string) => boolean;
      response.write = ((text: string) => {
        writes.push(text);
        return write(text);
      }) as typeof response.write;
    });
    const text = await ask(server.url, true, "batch-1");
    expect(text).toContain('"content":"!"');
    expect(writes[0]).toContain('"content":"Hello"');
    expect(writes[0]).toContain('"content":" world"');
    expect(writes[0]).not.toContain('"content":"!"');
  });

  it("is recorded in the registry's metrics before the next request can read them", async () => {
    const { url } = await serveRecording();
    await ask(url, false);
    await ask(url, true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/g4f_attempts_total\{provider="a",outcome="success"\} 2/);
  });
});

describe("a Responses answer's bookkeeping", () => {
  async function askResponses(url: string): Promise<string> {
    const response = await fetch(`${url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "test-model", stream: true, input: "Hi" }),
    });
    expect(response.status).toBe(200);
    return response.text();
  }

  it("comes after a stream's first events and its last ones were handed to the socket", async () => {
    const { url, events } = await serveRecording([["Hello", { wait: 20 }, " world"]]);
    const text = await askResponses(url);
    expect(text).toContain('"delta":"Hello"');
    expect(text).toContain("event: response.completed");
    expect(events).toEqual([
      "started",
      "write Hello",
      "first content",

      "end Hello",
      "succeeded",
    ]);
  });

  it("of a forwarded stream comes after its first events and its end were handed to the socket", async () => {
    const { url, events } = await serveRecording(undefined, new NativeProvider());
    const text = await askResponses(url);
    expect(text).toBe(
      `${nativeEvent("response.created", "Hello")}${nativeEvent("response.completed", "Hello world")}`,
    );
    expect(events).toEqual(["started", "write Hello", "first content", "end Hello", "succeeded"]);
  });

  it("keeps the finished response, as sent, for a GET right after the stream", async () => {
    const { url } = await serveRecording();
    const text = await askResponses(url);
    const completed = text.split("\n").find((line) => line.includes('"type":"response.completed"'));
    const sent = JSON.parse(completed?.slice("data: ".length) ?? "{}").response;
    const stored = await fetch(`${url}/v1/responses/${sent.id}`);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual(sent);
  });
});

/** An in-memory provider answering "Hello" then " world", calling `onReadOn` when asked for the second. */
class ProbeProvider extends InMemoryProvider {
  constructor(readonly onReadOn: () => void) {
    super("probe", "probe-1");
  }

  async *createAsyncGenerator(): AsyncResult {
    yield "Hello";
    this.onReadOn();
    yield " world";
  }
}

function nativeEvent(type: string, text: string): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, text })}\n\n`;
}

/** An in-memory upstream of the Responses API itself: its events are forwarded as they come. */
class NativeProvider extends InMemoryProvider implements ResponsesPassthroughProvider {
  constructor() {
    super("native", "test-model");
  }

  forwardsResponses(): boolean {
    return true;
  }

  async *forwardResponse(): AsyncResult {
    yield new NativeResponseText(nativeEvent("response.created", "Hello"), "text/event-stream");
    // The end comes in a later turn of the event loop than the first events.
    await new Promise((resolve) => setImmediate(resolve));
    yield new NativeResponseText(
      nativeEvent("response.completed", "Hello world"),
      "text/event-stream",
    );
  }

  async *createAsyncGenerator(): AsyncResult {
    yield "not used";
  }
}

/** An in-memory provider whose first read carries "Hello" and " world", and a later one "!". */
class BatchProvider extends InMemoryProvider {
  constructor() {
    super("batch", "batch-1");
  }

  createAsyncGenerator(): AsyncResult {
    return new BatchedChunks(async function* () {
      yield ["Hello", " world"];
      await new Promise((resolve) => setImmediate(resolve));
      yield ["!"];
    });
  }
}
