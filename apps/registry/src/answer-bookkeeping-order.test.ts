import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
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
): Promise<{ url: string; events: string[] }> {
  const events: string[] = [];
  const registry = await createRegistry({
    discover: false,
    providers: [scriptedProvider({ id: "a", script })],
  });
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

async function ask(url: string, stream: boolean): Promise<string> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "test-model",
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
    // Both chunks and the end are written at once, after the first content's event.
    expect(events).toEqual(["started", "first content", "end Hello", "succeeded"]);
  });

  it("is recorded in the registry's metrics before the next request can read them", async () => {
    const { url } = await serveRecording();
    await ask(url, false);
    await ask(url, true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/g4f_attempts_total\{provider="a",outcome="success"\} 2/);
  });
});
