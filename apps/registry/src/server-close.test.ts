import { AbortError, closeDispatchers } from "@g4f-ts/provider-core";
import { OpenAICompatible } from "@g4f-ts/provider-openai-compatible";
import { startTestServer } from "@g4f-ts/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";
import { createRegistry } from "./registry.js";
import { startServer } from "./server.js";

afterAll(closeDispatchers);

describe("closing a registry server", () => {
  it("cuts a close's grace period short with closeNow: an open stream ends at once with its error event", async () => {
    const server = await startServer({
      discover: false,
      config: {},
      env: {},
      port: 0,
      providers: [
        scriptedProvider({ id: "slow", script: [["first words ", { wait: 60_000 }, "never"]] }),
      ],
    });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "test-model",
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
      }),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const closing = server.close(60_000);
    const cutAt = performance.now();
    await server.closeNow();
    await closing;
    expect(performance.now() - cutAt).toBeLessThan(2_000);
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    // The error event, then `[DONE]`, as g4f's API ends every stream.
    expect(text).toMatch(/"code":"server_shutting_down".*\n\ndata: \[DONE\]\n\n$/);
  });

  it("stops a start waiting for a model list when its signal aborts, and closes the upstream socket", async () => {
    let markAsked: () => void = () => undefined;
    const asked = new Promise<void>((resolve) => {
      markAsked = resolve;
    });
    const upstream = await startTestServer(() => markAsked());
    try {
      const controller = new AbortController();
      const starting = createRegistry({
        discover: false,
        config: {},
        env: {},
        signal: controller.signal,
        providers: [
          new OpenAICompatible({
            id: "hanging",
            baseUrl: `${upstream.url}/v1`,
            timeouts: { totalMs: 120_000 },
          }),
        ],
      }).catch((error: unknown) => error);
      await asked;
      const closed = upstream.nextConnectionClose(2_000);
      const stoppedAt = performance.now();
      controller.abort();
      expect(await starting).toBeInstanceOf(AbortError);
      expect(performance.now() - stoppedAt).toBeLessThan(1_000);
      await closed;
    } finally {
      await upstream.close();
    }
  });
});
