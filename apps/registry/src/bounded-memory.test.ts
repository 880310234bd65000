import { request as httpRequest } from "node:http";
import { type AsyncResult, Usage } from "@g4f-ts/provider-core";
import { startTestServer } from "@g4f-ts/testkit";
import { describe, expect, it } from "vitest";
import { settledHeapBytes, settledMemoryBytes } from "../test-support/forced-gc.js";
import { InMemoryProvider } from "../test-support/in-memory-provider.js";
import { startLargeAnswerUpstream } from "../test-support/large-answer-upstream.js";
import { postJson, sseData, startAmigoPair } from "./__fixtures__/amigo-pair.js";
import type { ChatOrErrorBody, ErrorBody } from "./__fixtures__/http-bodies.js";
import { drained } from "./http-responses.js";
import { startServer } from "./server.js";

/*
 * Issue 14: nothing an upstream sends may make the registry's memory grow with it.
 * A stream keeps counts, never its text; a JSON answer stops at
 * `server.answerLimitBytes` with a 502 naming it; an SSE line that never ends is cut
 * at the decoder's limit; metadata before the first content keeps its latest value.
 */

const question = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] };
const megabyte = 1024 * 1024;

describe("bounded memory", () => {
  it("streams 48 MB through one stream with the retained heap flat", async () => {
    // 3,072 pieces of 16 KiB, written as fast as the registry reads them.
    const upstream = await startLargeAnswerUpstream(3072, 16 * 1024);
    const pair = await startAmigoPair({ baseUrlA: upstream.server.url });
    try {
      // A first, small answer makes the one-time allocations before the measures.
      await (
        await postJson(pair.server, "/v1/chat/completions", { ...question, provider: "amigo-b" })
      ).text();
      const { received, held } = await new Promise<{ received: number; held: number }>(
        (resolve, reject) => {
          const outgoing = httpRequest(`${pair.server.url}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
          });
          outgoing.once("error", reject);
          outgoing.once("response", (incoming) => {
            let bytes = 0;
            let baseline: number | undefined;
            let heldAtEnd = 0;
            incoming.on("data", (data: Buffer) => {
              bytes += data.byteLength;
              // Measured mid-stream (the provider still reading: socket buffers hold
              // a few MB, not 24): the first after 2 MB, the second after 26 MB.
              if (baseline === undefined && bytes > 2 * megabyte) baseline = settledHeapBytes();
              else if (baseline !== undefined && heldAtEnd === 0 && bytes > 26 * megabyte)
                heldAtEnd = settledHeapBytes() - baseline;
            });
            incoming.once("end", () => resolve({ received: bytes, held: heldAtEnd }));
          });
          outgoing.end(JSON.stringify({ ...question, stream: true }));
        },
      );
      console.log(
        `one stream: ${(received / 1e6).toFixed(0)} MB through; heap held between 2 MB and 26 MB: ${(held / 1e6).toFixed(2)} MB`,
      );
      expect(received).toBeGreaterThan(upstream.textLength);
      // Keeping the text that passed would hold 24 MB here.
      expect(held).toBeLessThan(6 * megabyte);
    } finally {
      await pair.close();
      await upstream.server.close();
    }
  }, 30_000);

  it("answers a JSON request whose answer passes server.answerLimitBytes with a 502 naming the limit, falls back to no one, and lets the memory go", async () => {
    // 16 MB of answer for a 1 MiB limit.
    const upstream = await startLargeAnswerUpstream(1024, 16 * 1024);
    const pair = await startAmigoPair({
      baseUrlA: upstream.server.url,
      config: { server: { answerLimitBytes: megabyte } },
    });
    try {
      await (
        await postJson(pair.server, "/v1/chat/completions", { ...question, provider: "amigo-b" })
      ).text();
      const baseline = settledMemoryBytes();
      const response = await postJson(pair.server, "/v1/chat/completions", question);
      const body = (await response.json()) as ErrorBody;
      expect(response.status).toBe(502);
      expect(body.error.code).toBe("answer_too_large");
      expect(body.error.type).toBe("upstream_error");
      expect(body.error.message).toContain("server.answerLimitBytes");
      expect(body.error.message).toContain(String(megabyte));
      expect(body.error.message).toContain('"stream": true');
      expect(body.error.attempts).toEqual([
        expect.objectContaining({ provider: "amigo-a", reason: "too_large" }),
      ]);
      // The other provider would answer as long: it is not asked.
      expect(pair.b.requests).toHaveLength(1);
      // The upstream was stopped, not read to its end.
      await upstream.server.waitForConnectionsClosed(2_000);
      expect(upstream.bytesWritten()).toBeLessThan(upstream.totalBytes);
      const held = settledMemoryBytes() - baseline;
      console.log(
        `JSON answer over 1 MiB: 502; memory held afterwards ${(held / 1e6).toFixed(2)} MB`,
      );
      expect(held).toBeLessThan(2 * megabyte);
      // A long answer is no failure of the provider's health.
      const health = pair.server.registry
        .describeProviders()
        .find((entry) => entry.id === "amigo-a");
      expect(health?.health.failures).toBe(0);
    } finally {
      await pair.close();
      await upstream.server.close();
    }
  }, 30_000);

  it("stops a JSON answer of one-character chunks (confetti) at the limit too", async () => {
    const upstream = await startLargeAnswerUpstream(200_000, 1);
    const pair = await startAmigoPair({
      baseUrlA: upstream.server.url,
      config: { server: { answerLimitBytes: 64 * 1024 } },
    });
    try {
      const response = await postJson(pair.server, "/v1/chat/completions", question);
      const body = (await response.json()) as ErrorBody;
      expect(response.status).toBe(502);
      expect(body.error.code).toBe("answer_too_large");
      expect(body.error.message).toContain("65536 bytes (server.answerLimitBytes)");
    } finally {
      await pair.close();
      await upstream.server.close();
    }
  });

  it("still answers a JSON answer under the limit whole, one-character chunks and all", async () => {
    const upstream = await startLargeAnswerUpstream(20_000, 1);
    const pair = await startAmigoPair({
      baseUrlA: upstream.server.url,
      config: { server: { answerLimitBytes: 64 * 1024 } },
    });
    try {
      const response = await postJson(pair.server, "/v1/chat/completions", question);
      const body = (await response.json()) as ChatOrErrorBody;
      expect(response.status).toBe(200);
      expect(body.choices?.[0]?.message?.content).toBe("x".repeat(20_000));
    } finally {
      await pair.close();
      await upstream.server.close();
    }
  });

  it("cuts an SSE line that never ends at the decoder's limit, naming it, and falls back", async () => {
    let written = 0;
    const endless = await startTestServer(async (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write("data: ");
      const filler = "w".repeat(64 * 1024);
      // Up to 64 MB without a line break.
      for (let index = 0; index < 1024; index++) {
        if (response.destroyed) return;
        written += filler.length;
        if (!response.write(filler)) await drained(response);
      }
      response.end();
    });
    const pair = await startAmigoPair({ baseUrlA: endless.url });
    try {
      const pinned = await postJson(pair.server, "/v1/chat/completions", {
        ...question,
        provider: "amigo-a",
      });
      const body = (await pinned.json()) as ErrorBody;
      expect(pinned.status).toBe(502);
      expect(body.error.attempts?.[0]?.reason).toBe("too_large");
      expect(body.error.attempts?.[0]?.message).toContain("maxEventBytes");
      await endless.waitForConnectionsClosed(2_000);
      expect(written).toBeLessThan(32 * megabyte);

      const response = await postJson(pair.server, "/v1/chat/completions", {
        ...question,
        stream: true,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-g4f-provider")).toBe("amigo-b");
      expect(sseData(await response.text()).at(-1)).toBe("[DONE]");
    } finally {
      await pair.close();
      await endless.close();
    }
  }, 30_000);

  it("keeps only the latest metadata before the first content, however much of it arrives", async () => {
    const metadataChunks = 200_000;
    let held = 0;
    const provider = new MetadataFloodProvider(metadataChunks, (index) => {
      if (index === 1_000) held = -settledHeapBytes();
      if (index === metadataChunks - 1) held += settledHeapBytes();
    });
    const server = await startServer({
      config: { discovery: { installed: false }, logLevel: "silent" },
      providers: [provider],
      port: 0,
      env: {},
    });
    try {
      const response = await postJson(server, "/v1/chat/completions", {
        model: "flood-1",
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "Hi" }],
      });
      const payloads = sseData(await response.text());
      expect(payloads.at(-1)).toBe("[DONE]");
      const usage = JSON.parse(payloads.at(-2) as string) as { usage: { total_tokens: number } };
      // The latest usage of the flood, not the first.
      expect(usage.usage.total_tokens).toBe(metadataChunks - 1);
      console.log(
        `${metadataChunks} usage chunks before the first content: heap held ${(held / 1e6).toFixed(2)} MB`,
      );
      // Keeping every one would hold about 199,000 usage objects: over 10 MB.
      expect(held).toBeLessThan(2 * megabyte);
    } finally {
      await server.close(0);
    }
  }, 30_000);
});

/** An in-memory provider that sends `count` usage chunks, then its text. */
class MetadataFloodProvider extends InMemoryProvider {
  constructor(
    readonly count: number,
    readonly onChunk: (index: number) => void,
  ) {
    super("flood", "flood-1");
  }

  async *createAsyncGenerator(): AsyncResult {
    for (let index = 0; index < this.count; index++) {
      this.onChunk(index);
      yield new Usage({ promptTokens: 0, completionTokens: index, totalTokens: index });
    }
    yield "Hello";
  }
}
