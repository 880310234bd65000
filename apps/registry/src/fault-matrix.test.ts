import { readFile } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { closedPortUrl, type Fault, startAmigoChatFake } from "@g4f-ts/testkit";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { settledMemoryBytes } from "../test-support/forced-gc.js";
import { startLargeAnswerUpstream } from "../test-support/large-answer-upstream.js";
import { startServeProcess, writeConfigFile } from "../test-support/serve-process.js";
import {
  type AmigoPair,
  postJson,
  sseData,
  startAmigoPair,
  streamedText,
} from "./__fixtures__/amigo-pair.js";
import type { ChatOrErrorBody, ErrorBody } from "./__fixtures__/http-bodies.js";

/*
 * The fault matrix: for each way an upstream misbehaves, in each mode (SSE or JSON)
 * and at each position (before or after the commit point, the first content chunk),
 * the exact answer a client sees, through raw HTTP and through the official openai
 * client. Two AmigoChat upstreams behind one registry: amigo-a (tried first) gets
 * the fault, amigo-b is healthy unless the row says otherwise. docs/reliability.md
 * holds the same table; the last test keeps the two in step.
 */

const reply = "Hello from gpt-4o-mini!";
const question = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] };
const defaultTimeouts = { firstChunkMs: 500, idleMs: 500 };

type Mode = "stream" | "non-stream";
type Position = "before commit" | "after commit" | "before and after commit" | "throughout";

type Expected =
  | { outcome: "complete"; provider: "amigo-a" | "amigo-b" }
  | {
      outcome: "error event";
      /** The text the client got before the error event. */
      partialText: string;
      /** The `reason` of the failed attempt in the event's `attempts`. */
      reason: string;
      /** A piece of the event's message. */
      message: string;
    }
  | { outcome: "http error"; status: 429 | 502; code: string; reasons: string[] };

interface Setup {
  /** The primary's fault, or "refused": its base URL is a closed port. */
  primary: Fault | "refused";
  /** The secondary's fault; healthy when absent. */
  secondary?: Fault;
  timeouts?: { firstChunkMs: number; idleMs: number };
}

interface FaultCase {
  fault: string;
  position: Position;
  setup: Setup;
  stream: Expected;
  nonStream: Expected;
  /** The fault leaves the primary's answer unfinished: the registry must close that socket itself. */
  closesPrimarySocket?: boolean;
}

const fallback: Expected = { outcome: "complete", provider: "amigo-b" };
const primaryAnswers: Expected = { outcome: "complete", provider: "amigo-a" };

const faultCases: FaultCase[] = [
  {
    fault: "HTTP 500, no retry-after",
    position: "before commit",
    setup: { primary: { kind: "status", status: 500 } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "HTTP 503 with retry-after: 1",
    position: "before commit",
    setup: { primary: { kind: "status", status: 503, retryAfter: "1" } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "HTTP 429, no retry-after",
    position: "before commit",
    setup: { primary: { kind: "status", status: 429 } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "HTTP 429 with retry-after: 1",
    position: "before commit",
    setup: { primary: { kind: "status", status: 429, retryAfter: "1" } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "HTTP 403 HTML page (Cloudflare block)",
    position: "before commit",
    setup: { primary: { kind: "html-block" } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "latency before headers (3 s; first-chunk timeout 500 ms)",
    position: "before commit",
    setup: { primary: { kind: "delay-headers", ms: 3_000 } },
    stream: fallback,
    nonStream: fallback,
    closesPrimarySocket: true,
  },
  {
    fault: "latency before the first chunk (3 s; first-chunk timeout 500 ms)",
    position: "before commit",
    setup: { primary: { kind: "delay-first-chunk", ms: 3_000 } },
    stream: fallback,
    nonStream: fallback,
    closesPrimarySocket: true,
  },
  {
    fault: "stream cut, socket destroyed",
    position: "before commit",
    setup: { primary: { kind: "cut-after", chunks: 0 } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "stream cut, socket destroyed",
    position: "after commit",
    setup: { primary: { kind: "cut-after", chunks: 2 } },
    stream: {
      outcome: "error event",
      partialText: "Hello fr",
      reason: "interrupted",
      message: "broke off after 8 characters",
    },
    nonStream: fallback,
  },
  {
    fault: "malformed SSE lines among the chunks",
    position: "before and after commit",
    setup: { primary: { kind: "malformed-sse" } },
    stream: primaryAnswers,
    nonStream: primaryAnswers,
  },
  {
    fault: "error object inside a 200 stream",
    position: "before commit",
    setup: { primary: { kind: "error-in-stream", afterChunks: 0 } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "error object inside a 200 stream",
    position: "after commit",
    setup: { primary: { kind: "error-in-stream", afterChunks: 2 } },
    stream: {
      outcome: "error event",
      partialText: "Hello fr",
      reason: "status",
      message: "sent an error in its answer",
    },
    nonStream: fallback,
  },
  {
    fault: "stream that never ends",
    position: "before commit",
    setup: { primary: { kind: "never-end", afterChunks: 0 } },
    stream: fallback,
    nonStream: fallback,
    closesPrimarySocket: true,
  },
  {
    fault: "stream that never ends",
    position: "after commit",
    setup: { primary: { kind: "never-end", afterChunks: 2 } },
    stream: {
      outcome: "error event",
      partialText: "Hello fr",
      reason: "timeout",
      message: "idle timeout of 500 ms",
    },
    nonStream: fallback,
    closesPrimarySocket: true,
  },
  {
    fault: "slow drip under the timeouts (a chunk every 50 ms)",
    position: "throughout",
    setup: { primary: { kind: "slow-drip", intervalMs: 50 } },
    stream: primaryAnswers,
    nonStream: primaryAnswers,
  },
  {
    fault: "slow drip, first chunk after the first-chunk timeout (a chunk every 3 s)",
    position: "before commit",
    setup: { primary: { kind: "slow-drip", intervalMs: 3_000 } },
    stream: fallback,
    nonStream: fallback,
    closesPrimarySocket: true,
  },
  {
    fault:
      "slow drip, gaps over the idle timeout (a chunk every 1 s; first-chunk timeout 2 s, idle 400 ms)",
    position: "after commit",
    setup: {
      primary: { kind: "slow-drip", intervalMs: 1_000 },
      timeouts: { firstChunkMs: 2_000, idleMs: 400 },
    },
    stream: {
      outcome: "error event",
      partialText: "Hell",
      reason: "timeout",
      message: "idle timeout of 400 ms",
    },
    nonStream: fallback,
    closesPrimarySocket: true,
  },
  {
    fault: "connection refused (closed port)",
    position: "before commit",
    setup: { primary: "refused" },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "connection reset before any answer",
    position: "before commit",
    setup: { primary: { kind: "drop" } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "body that is not JSON (200, application/json)",
    position: "before commit",
    setup: { primary: { kind: "not-json" } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "empty answer (200, only [DONE])",
    position: "before commit",
    setup: { primary: { kind: "empty" } },
    stream: fallback,
    nonStream: fallback,
  },
  {
    fault: "both upstreams: HTTP 429 with retry-after: 1",
    position: "before commit",
    setup: {
      primary: { kind: "status", status: 429, retryAfter: "1" },
      secondary: { kind: "status", status: 429, retryAfter: "1" },
    },
    stream: {
      outcome: "http error",
      status: 429,
      code: "rate_limit_exceeded",
      reasons: ["rate_limit", "rate_limit"],
    },
    nonStream: {
      outcome: "http error",
      status: 429,
      code: "rate_limit_exceeded",
      reasons: ["rate_limit", "rate_limit"],
    },
  },
  {
    fault: "both upstreams: HTTP 503",
    position: "before commit",
    setup: { primary: { kind: "status", status: 503 }, secondary: { kind: "status", status: 503 } },
    stream: {
      outcome: "http error",
      status: 502,
      code: "all_providers_failed",
      reasons: ["status", "status"],
    },
    nonStream: {
      outcome: "http error",
      status: 502,
      code: "all_providers_failed",
      reasons: ["status", "status"],
    },
  },
  {
    fault: "both upstreams: error object inside a 200 stream",
    position: "before commit",
    setup: {
      primary: { kind: "error-in-stream", afterChunks: 0 },
      secondary: { kind: "error-in-stream", afterChunks: 0 },
    },
    stream: {
      outcome: "http error",
      status: 502,
      code: "all_providers_failed",
      reasons: ["status", "status"],
    },
    nonStream: {
      outcome: "http error",
      status: 502,
      code: "all_providers_failed",
      reasons: ["status", "status"],
    },
  },
  {
    fault: "both upstreams: stream that never ends",
    position: "before commit",
    setup: {
      primary: { kind: "never-end", afterChunks: 0 },
      secondary: { kind: "never-end", afterChunks: 0 },
    },
    stream: {
      outcome: "http error",
      status: 502,
      code: "all_providers_failed",
      reasons: ["timeout", "timeout"],
    },
    nonStream: {
      outcome: "http error",
      status: 502,
      code: "all_providers_failed",
      reasons: ["timeout", "timeout"],
    },
    closesPrimarySocket: true,
  },
  {
    fault: "both upstreams: connection reset before any answer",
    position: "before commit",
    setup: { primary: { kind: "drop" }, secondary: { kind: "drop" } },
    stream: {
      outcome: "http error",
      status: 502,
      code: "all_providers_failed",
      reasons: ["connection", "connection"],
    },
    nonStream: {
      outcome: "http error",
      status: 502,
      code: "all_providers_failed",
      reasons: ["connection", "connection"],
    },
  },
];

/** Faults that by their nature happen before any content: no "after commit" row. */
const beforeCommitOnly = [
  "HTTP status (500, 503, 429, 403), with or without retry-after",
  "latency before headers",
  "latency before the first chunk",
  "connection refused (closed port)",
  "connection reset before any answer",
  "body that is not JSON",
  "empty answer",
];

interface MatrixRow {
  fault: string;
  mode: Mode;
  position: Position;
  setup: Setup;
  expected: Expected;
  closesPrimarySocket: boolean;
  outcome: string;
}

/** The outcome as docs/reliability.md words it. */
function outcomeText(expected: Expected, mode: Mode): string {
  switch (expected.outcome) {
    case "complete":
      return expected.provider === "amigo-a"
        ? "complete answer from the primary (`x-g4f-provider: amigo-a`), no fallback"
        : "fallback: complete answer from the secondary (`x-g4f-provider: amigo-b`)";
    case "error event":
      return `200 SSE: the text so far (\`${expected.partialText}\`), then \`data: {"error": …}\` (code \`stream_interrupted\`, reason \`${expected.reason}\`), then \`[DONE]\`, no fallback; openai: \`APIError\` while iterating`;
    case "http error": {
      const errorClass = expected.status === 429 ? "RateLimitError" : "InternalServerError";
      const shape = mode === "stream" ? " (JSON, no SSE started)" : "";
      return `HTTP ${expected.status} OpenAI error${shape}, code \`${expected.code}\`, reasons ${expected.reasons.join(" + ")}, \`x-should-retry: false\`; openai: \`${errorClass}\``;
    }
  }
}

const rows: MatrixRow[] = faultCases.flatMap((faultCase) =>
  (["stream", "non-stream"] as const).map((mode) => {
    const expected = mode === "stream" ? faultCase.stream : faultCase.nonStream;
    return {
      fault: faultCase.fault,
      mode,
      position: faultCase.position,
      setup: faultCase.setup,
      expected,
      closesPrimarySocket: faultCase.closesPrimarySocket ?? false,
      outcome: outcomeText(expected, mode),
    };
  }),
);

/**
 * Timeouts for the rows no timeout decides: far beyond any delay of a starved machine, so
 * the healthy fallback's answer cannot be timed out under load. The rows that leave the
 * primary's answer unfinished (closesPrimarySocket) are decided by a timeout and keep the
 * 500 ms ones.
 */
const untimedRows = { firstChunkMs: 30_000, idleMs: 30_000, totalMs: 60_000 };

async function startMatrixPair(row: MatrixRow): Promise<AmigoPair> {
  const { setup } = row;
  const timeouts = row.closesPrimarySocket ? defaultTimeouts : untimedRows;
  const pair = await startAmigoPair({
    baseUrlA: setup.primary === "refused" ? await closedPortUrl() : undefined,
    config: { routing: { timeouts: { ...timeouts, ...setup.timeouts } } },
  });
  if (setup.primary !== "refused") pair.a.setFaults([setup.primary]);
  if (setup.secondary !== undefined) pair.b.setFaults([setup.secondary]);
  return pair;
}

function expectUpstreamCalls(pair: AmigoPair, row: MatrixRow): void {
  const primaryCalls = row.setup.primary === "refused" ? 0 : 1;
  const servedByPrimary =
    row.expected.outcome === "error event" ||
    (row.expected.outcome === "complete" && row.expected.provider === "amigo-a");
  // One call each: no retry in place, and no client retry of an all-failed answer.
  expect(pair.a.requests).toHaveLength(primaryCalls);
  expect(pair.b.requests).toHaveLength(servedByPrimary ? 0 : 1);
}

async function checkRawHttp(row: MatrixRow): Promise<void> {
  const pair = await startMatrixPair(row);
  try {
    const stream = row.mode === "stream";
    const response = await postJson(pair.server, "/v1/chat/completions", { ...question, stream });
    const text = await response.text();
    const contentType = response.headers.get("content-type") ?? "";
    const { expected } = row;
    switch (expected.outcome) {
      case "complete": {
        expect(response.status).toBe(200);
        expect(response.headers.get("x-g4f-provider")).toBe(expected.provider);
        if (stream) {
          expect(contentType).toMatch(/^text\/event-stream/);
          const payloads = sseData(text);
          expect(payloads.at(-1)).toBe("[DONE]");
          expect(payloads.filter((payload) => payload.startsWith('{"error"'))).toEqual([]);
          expect(streamedText(payloads)).toBe(reply);
        } else {
          const body = JSON.parse(text) as ChatOrErrorBody;
          expect(body.provider).toBe(expected.provider);
          expect(body.choices[0]?.message.content).toBe(reply);
        }
        break;
      }
      case "error event": {
        expect(response.status).toBe(200);
        expect(contentType).toMatch(/^text\/event-stream/);
        expect(response.headers.get("x-g4f-provider")).toBe("amigo-a");
        const payloads = sseData(text);
        expect(payloads.at(-1)).toBe("[DONE]");
        expect(streamedText(payloads.slice(0, -2))).toBe(expected.partialText);
        const last = JSON.parse(payloads.at(-2) as string) as ErrorBody;
        expect(last.error).toMatchObject({ type: "upstream_error", code: "stream_interrupted" });
        expect(last.error.message).toContain("failed after the answer had started");
        expect(last.error.message).toContain(expected.message);
        expect(last.error.attempts?.map((attempt) => attempt.reason)).toEqual([expected.reason]);
        break;
      }
      case "http error": {
        expect(response.status).toBe(expected.status);
        expect(contentType).toMatch(/^application\/json/);
        expect(response.headers.get("x-should-retry")).toBe("false");
        if (expected.status === 429)
          expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
        const body = JSON.parse(text) as ErrorBody;
        expect(body.error.code).toBe(expected.code);
        expect(body.error.attempts?.map((attempt) => attempt.reason)).toEqual(expected.reasons);
        break;
      }
    }
    expectUpstreamCalls(pair, row);
    if (row.closesPrimarySocket) await pair.a.waitForConnectionsClosed(10_000);
  } finally {
    await pair.close();
  }
}

async function checkOpenAIClient(row: MatrixRow): Promise<void> {
  const pair = await startMatrixPair(row);
  try {
    // Default retries stay on: x-should-retry: false must keep the SDK from adding attempts.
    const openai = new OpenAI({ baseURL: `${pair.server.url}/v1`, apiKey: "sk-test" });
    const messages = [{ role: "user" as const, content: "Hi" }];
    const { expected } = row;
    if (expected.outcome === "http error") {
      const errorClass =
        expected.status === 429 ? OpenAI.RateLimitError : OpenAI.InternalServerError;
      const error = await openai.chat.completions
        .create({ model: "gpt-4o-mini", messages, stream: row.mode === "stream" })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(errorClass);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(expected.status);
      expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe(expected.code);
    } else if (row.mode === "stream") {
      const { data: stream, response } = await openai.chat.completions
        .create({ model: "gpt-4o-mini", messages, stream: true })
        .withResponse();
      let text = "";
      const error = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      })().catch((caught: unknown) => caught);
      if (expected.outcome === "complete") {
        expect(error).toBeUndefined();
        expect(response.headers.get("x-g4f-provider")).toBe(expected.provider);
        expect(text).toBe(reply);
      } else {
        expect(error).toBeInstanceOf(OpenAI.APIError);
        expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("stream_interrupted");
        expect(response.headers.get("x-g4f-provider")).toBe("amigo-a");
        expect(text).toBe(expected.partialText);
      }
    } else {
      if (expected.outcome !== "complete") throw new Error("a JSON answer has no error event");
      const { data, response } = await openai.chat.completions
        .create({ model: "gpt-4o-mini", messages })
        .withResponse();
      expect(response.headers.get("x-g4f-provider")).toBe(expected.provider);
      expect(data.choices[0]?.message.content).toBe(reply);
      expect(data.choices[0]?.finish_reason).toBe("stop");
    }
    expectUpstreamCalls(pair, row);
  } finally {
    await pair.close();
  }
}

describe("the fault matrix: one faulty upstream (amigo-a), a healthy fallback (amigo-b)", () => {
  it.each(rows)("$fault | $mode | $position -> $outcome", async (row) => {
    await checkRawHttp(row);
    await checkOpenAIClient(row);
  });

  it("is the table docs/reliability.md shows", async () => {
    const doc = await readFile(new URL("../../../docs/reliability.md", import.meta.url), "utf8");
    const missing = rows
      .map((row) => `| ${row.fault} | ${row.mode} | ${row.position} | ${row.outcome} |`)
      .filter((line) => !doc.includes(line));
    const notApplicable = beforeCommitOnly
      .map((fault) => `| ${fault} | stream, non-stream | after commit | N/A |`)
      .filter((line) => !doc.includes(line));
    expect([...missing, ...notApplicable]).toEqual([]);
  });
});

/** POST a streamed chat over node:http and resolve with the response as it starts. */
function startStream(url: string): {
  request: ReturnType<typeof httpRequest>;
  response: Promise<IncomingMessage>;
} {
  const request = httpRequest(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request.once("response", resolve).once("error", reject);
  });
  request.end(JSON.stringify({ ...question, stream: true }));
  return { request, response };
}

describe("clients that misbehave", () => {
  it("holds backpressure for a client that stops reading: the upstream stalls and memory stays bounded", async () => {
    // 64 MB of answer text in 64,000 chunks; loopback socket buffers hold a few MB of it.
    const upstream = await startLargeAnswerUpstream(64_000, 1_000);
    // Timeouts out of the way: on a starved machine the 64 MB take longer than the default 10 s total.
    const pair = await startAmigoPair({
      baseUrlA: upstream.server.url,
      config: { routing: { timeouts: { firstChunkMs: 60_000, idleMs: 60_000, totalMs: 600_000 } } },
    });
    try {
      // A first, small answer makes the one-time allocations (code, pools) before the baseline.
      await (
        await postJson(pair.server, "/v1/chat/completions", { ...question, provider: "amigo-b" })
      ).text();
      const baseline = settledMemoryBytes();
      const { request, response: started } = startStream(pair.server.url);
      const response = await started;
      let textLength = 0;
      let tail = "";
      let pending = "";
      response.setEncoding("utf8");
      response.on("data", (data: string) => {
        pending += data;
        const events = pending.split("\n\n");
        pending = events.pop() ?? "";
        for (const event of events) {
          if (!event.startsWith("data: {")) continue;
          const chunk = JSON.parse(event.slice(6)) as {
            choices: { delta: { content?: string } }[];
          };
          textLength += chunk.choices[0]?.delta.content?.length ?? 0;
        }
        tail = (tail + data).slice(-32);
      });
      await new Promise((resolve) => response.once("data", resolve));
      response.pause();
      // Stalled by event-loop turns, not by a sleep: how far the upstream gets before the
      // buffers fill depends on the machine's load, that it stops far short does not.
      const pausedAt = performance.now();
      const stillAt = await upstream.stalled();
      const stalledAfterMs = Math.round(performance.now() - pausedAt);
      const held = settledMemoryBytes() - baseline;
      console.log(
        `slow reader: upstream wrote ${(stillAt / 1e6).toFixed(1)} of ${(upstream.totalBytes / 1e6).toFixed(1)} MB while the client paused (stalled after ${stalledAfterMs} ms); memory held ${(held / 1e6).toFixed(1)} MB`,
      );
      expect(upstream.waitingForDrain()).toBe(true);
      expect(upstream.bytesWritten()).toBe(stillAt);
      expect(stillAt).toBeLessThan(upstream.totalBytes / 4);
      // Nothing of the text already passed on stays held (a stream keeps counts and
      // a short tail), nor the megabytes still upstream.
      expect(held).toBeLessThan(upstream.totalBytes / 8);

      response.resume();
      await new Promise((resolve) => response.once("end", resolve));
      request.destroy();
      expect(textLength).toBe(upstream.textLength);
      expect(tail.endsWith("data: [DONE]\n\n")).toBe(true);
      expect(upstream.bytesWritten()).toBe(upstream.totalBytes);
    } finally {
      await pair.close();
      await upstream.server.close();
    }
    // 64 MB through the registry after the resume: seconds alone, minutes on a starved machine.
  }, 300_000);

  it.each([
    { position: "mid-stream", fault: { kind: "never-end", afterChunks: 2 } as Fault },
    { position: "before the first chunk", fault: { kind: "never-end", afterChunks: 0 } as Fault },
  ])(
    "closes the upstream socket as soon as a client disconnects $position, not at a timeout",
    async ({ position, fault }) => {
      // Timeouts past the test's own: only the disconnect can close the upstream socket in
      // time, whatever the machine's load (the delays are printed, not asserted).
      const pair = await startAmigoPair({
        config: {
          routing: { timeouts: { firstChunkMs: 120_000, idleMs: 120_000, totalMs: 120_000 } },
        },
      });
      try {
        const delays: number[] = [];
        for (let round = 0; round < 5; round++) {
          pair.a.setFaults([fault]);
          const { request, response } = startStream(pair.server.url);
          if (position === "mid-stream") {
            const started = await response;
            await new Promise((resolve) => started.once("data", resolve));
          } else {
            while (pair.a.requests.length <= round) await sleep(5);
            response.catch(() => undefined);
          }
          expect(pair.a.openConnections()).toBe(1);
          const closed = pair.a.nextConnectionClose(10_000);
          const leftAt = Date.now();
          request.destroy();
          delays.push((await closed) - leftAt);
        }
        console.log(
          `client disconnect ${position}: upstream socket closed after ${delays.join(", ")} ms`,
        );
        expect(delays).toHaveLength(5);
        expect(pair.a.openConnections()).toBe(0);
        expect(pair.b.requests).toHaveLength(0);
        while (pair.server.openRequests() > 0) await sleep(5);
      } finally {
        await pair.close();
      }
    },
  );

  it("answers every one of 100 streams in flight at SIGTERM, completed or with an explicit error event, and exits 0", async () => {
    // Half the answers need 0.2 s more, half 20 s: the 5 s grace is 25 times what the short
    // ones need, so they finish in it on a loaded machine too, and the long ones never do.
    const fake = await startAmigoChatFake({
      chunkDelayMs: 20,
      // The serve process opens 100 connections at once; starved of CPU it can take seconds
      // to write a request on one it has opened, which the fake's 1 s default answers with 408.
      server: { idleConnectionTimeoutMs: 30_000 },
      reply: (request) => {
        const content = (request.json as { messages?: { content?: string }[] }).messages?.[0]
          ?.content;
        return Array.from({ length: content === "long" ? 1_000 : 10 }, (_, index) => `${index} `);
      },
    });
    const configPath = await writeConfigFile({
      discovery: { installed: false },
      providers: [
        {
          id: "amigo",
          use: "@g4f-ts/provider-amigochat",
          options: { baseUrl: fake.url, retry: { maxAttempts: 1 } },
        },
      ],
    });
    const serve = await startServeProcess([
      ...["--port", "0", "--config", configPath, "--log-level", "silent", "--grace-ms", "5000"],
    ]);
    try {
      const streams = Array.from({ length: 100 }, (_, index) =>
        startSseRead(serve.url, index % 2 === 0 ? "short" : "long"),
      );
      await Promise.all(streams.map((stream) => stream.firstData));
      serve.child.kill("SIGTERM");
      const results = await Promise.all(streams.map((stream) => stream.text));
      const outcomes = { completed: 0, errorEvent: 0, other: 0 };
      results.forEach((text, index) => {
        const payloads = sseData(text);
        const last = payloads.at(-1) ?? "";
        const beforeLast = payloads.at(-2) ?? "";
        const expectedToComplete = index % 2 === 0;
        if (last !== "[DONE]") outcomes.other++;
        else if (!beforeLast.startsWith('{"error"') && expectedToComplete) outcomes.completed++;
        else if (beforeLast.startsWith('{"error"') && !expectedToComplete) {
          expect(JSON.parse(beforeLast).error.code).toBe("server_shutting_down");
          outcomes.errorEvent++;
        } else outcomes.other++;
      });
      console.log(`SIGTERM with 100 streams in flight: ${JSON.stringify(outcomes)}`);
      expect(outcomes).toEqual({ completed: 50, errorEvent: 50, other: 0 });
      expect(await serve.exited).toBe(0);
    } finally {
      if (serve.child.exitCode === null) serve.child.kill("SIGKILL");
      await fake.close();
    }
  }, 60_000);
});

/** A streamed chat read to its end over its own connection; `firstData` resolves with its first bytes. */
function startSseRead(
  url: string,
  content: string,
): { firstData: Promise<void>; text: Promise<string> } {
  let markFirst: () => void = () => undefined;
  const firstData = new Promise<void>((resolve) => {
    markFirst = resolve;
  });
  const text = new Promise<string>((resolve, reject) => {
    const outgoing = httpRequest(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      agent: false,
    });
    outgoing.once("error", reject);
    outgoing.once("response", (incoming) => {
      let received = "";
      incoming.setEncoding("utf8");
      incoming.on("data", (data: string) => {
        received += data;
        markFirst();
      });
      incoming.once("error", reject);
      incoming.once("end", () => resolve(received));
    });
    outgoing.end(
      JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content }] }),
    );
  });
  return { firstData, text };
}
