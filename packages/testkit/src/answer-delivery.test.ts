import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FakeAnswer } from "./answer-delivery.js";
import { deliverAnswer } from "./answer-delivery.js";
import type { Fault } from "./faults.js";
import { parseSseData } from "./sse-data.js";
import type { TestServer } from "./test-server.js";
import { startTestServer } from "./test-server.js";

const streamAnswer: FakeAnswer = {
  type: "stream",
  contentEvents: [{ content: "A" }, { content: "B" }, { content: "C" }],
  closingEvents: [{ finish: "stop" }],
};

const jsonBody = { message: "a JSON body long enough to be cut in half" };

const jsonAnswer: FakeAnswer = {
  type: "json",
  status: 200,
  body: jsonBody,
  emptyBody: { message: "" },
};

const healthyFrames = [
  '{"content":"A"}',
  '{"content":"B"}',
  '{"content":"C"}',
  '{"finish":"stop"}',
];

let server: TestServer;
let fault: Fault | undefined;

beforeAll(async () => {
  server = await startTestServer((request, response) =>
    deliverAnswer(response, request.path === "/json" ? jsonAnswer : streamAnswer, fault, {
      chunkDelayMs: 0,
      errorBody: (status, message) => ({ message, statusCode: status }),
    }),
  );
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  fault = undefined;
});

/** Reads a body until it ends or fails, keeping what arrived before a failure. */
async function readUntilFailure(response: Response): Promise<{ text: string; failed: boolean }> {
  const decoder = new TextDecoder();
  let text = "";
  try {
    for await (const piece of response.body!) text += decoder.decode(piece, { stream: true });
    return { text, failed: false };
  } catch {
    return { text, failed: true };
  }
}

/** Whether the next read of `reader` stays pending for `ms`. */
async function staysSilent(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
): Promise<boolean> {
  const silence = new Promise<"silent">((resolve) => setTimeout(() => resolve("silent"), ms));
  return (await Promise.race([reader.read(), silence])) === "silent";
}

describe("deliverAnswer without a fault", () => {
  it("streams the content and closing events, then [DONE]", async () => {
    const response = await fetch(`${server.url}/stream`);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(parseSseData(await response.text())).toEqual([...healthyFrames, "[DONE]"]);
  });

  it("answers the JSON body with its status", async () => {
    const response = await fetch(`${server.url}/json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(jsonBody);
  });
});

describe("deliverAnswer with a fault", () => {
  it("status: answers the status with the fake's error body and retry-after", async () => {
    fault = { kind: "status", status: 429, retryAfter: "7" };
    const response = await fetch(`${server.url}/stream`);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
    expect(await response.json()).toEqual({ message: "Too Many Requests", statusCode: 429 });
  });

  it("status: sends an object body as JSON and a string body as is, with extra headers", async () => {
    fault = { kind: "status", status: 403, body: { message: "Forbidden", statusCode: 403 } };
    const json = await fetch(`${server.url}/json`);
    expect(json.status).toBe(403);
    expect(await json.json()).toEqual({ message: "Forbidden", statusCode: 403 });

    fault = {
      kind: "status",
      status: 502,
      body: "<h1>Bad gateway</h1>",
      headers: { "Content-Type": "text/html", "x-upstream": "edge" },
    };
    const text = await fetch(`${server.url}/stream`);
    expect(text.status).toBe(502);
    expect(text.headers.get("content-type")).toBe("text/html");
    expect(text.headers.get("x-upstream")).toBe("edge");
    expect(await text.text()).toBe("<h1>Bad gateway</h1>");
  });

  it("delay-headers: holds the headers back, then answers normally", async () => {
    fault = { kind: "delay-headers", ms: 80 };
    const startedAt = Date.now();
    const response = await fetch(`${server.url}/stream`);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(60);
    expect(parseSseData(await response.text())).toEqual([...healthyFrames, "[DONE]"]);
  });

  it("delay-first-chunk: sends the headers at once and the first chunk later", async () => {
    fault = { kind: "delay-first-chunk", ms: 120 };
    const startedAt = Date.now();
    const response = await fetch(`${server.url}/stream`);
    const headersAt = Date.now() - startedAt;
    const text = await response.text();
    const bodyAt = Date.now() - startedAt;
    expect(response.status).toBe(200);
    expect(headersAt).toBeLessThan(bodyAt);
    expect(bodyAt).toBeGreaterThanOrEqual(100);
    expect(parseSseData(text)).toEqual([...healthyFrames, "[DONE]"]);
  });

  it("delay-first-chunk: sends JSON headers at once and the body later", async () => {
    fault = { kind: "delay-first-chunk", ms: 120 };
    const startedAt = Date.now();
    const response = await fetch(`${server.url}/json`);
    const headersAt = Date.now() - startedAt;
    const body: unknown = await response.json();
    expect(headersAt).toBeLessThan(Date.now() - startedAt);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(100);
    expect(body).toEqual(jsonBody);
  });

  it("cut-after: streams that many content chunks, then the client sees the socket die", async () => {
    fault = { kind: "cut-after", chunks: 2 };
    const response = await fetch(`${server.url}/stream`);
    expect(response.status).toBe(200);
    const { text, failed } = await readUntilFailure(response);
    expect(failed).toBe(true);
    expect(parseSseData(text)).toEqual(['{"content":"A"}', '{"content":"B"}']);
  });

  it("cut-after: sends half of a JSON body under its full content-length, then dies", async () => {
    fault = { kind: "cut-after", chunks: 0 };
    const response = await fetch(`${server.url}/json`);
    const fullLength = Number(response.headers.get("content-length"));
    const { text, failed } = await readUntilFailure(response);
    expect(failed).toBe(true);
    expect(text.length).toBeLessThan(fullLength);
  });

  it("malformed-sse: interleaves lines that are not JSON and still ends with [DONE]", async () => {
    fault = { kind: "malformed-sse" };
    const payloads = parseSseData(await (await fetch(`${server.url}/stream`)).text());
    const parses = (payload: string): boolean => {
      try {
        JSON.parse(payload);
        return true;
      } catch {
        return false;
      }
    };
    expect(payloads).toContain("{not json");
    expect(payloads.filter((payload) => payload !== "[DONE]" && !parses(payload)).length).toBe(4);
    expect(payloads.filter(parses)).toEqual(healthyFrames);
    expect(payloads.at(-1)).toBe("[DONE]");
  });

  it("malformed-sse: leaves a JSON answer healthy", async () => {
    fault = { kind: "malformed-sse" };
    expect(await (await fetch(`${server.url}/json`)).json()).toEqual(jsonBody);
  });

  it("error-in-stream: sends an error event after the chunks and ends without [DONE]", async () => {
    fault = {
      kind: "error-in-stream",
      afterChunks: 2,
      error: { message: "Error handling AIML chat completion stream", code: 500 },
    };
    const response = await fetch(`${server.url}/stream`);
    expect(response.status).toBe(200);
    expect(parseSseData(await response.text())).toEqual([
      '{"content":"A"}',
      '{"content":"B"}',
      '{"error":{"message":"Error handling AIML chat completion stream","code":500}}',
    ]);
  });

  it("error-in-stream: answers a JSON request with a 200 error body, by default a server error", async () => {
    fault = { kind: "error-in-stream" };
    const response = await fetch(`${server.url}/json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      error: { message: "Internal error while streaming the response", type: "server_error" },
    });
  });

  it("never-end: sends the first chunks and then holds the stream open until the client leaves", async () => {
    fault = { kind: "never-end", afterChunks: 1 };
    const controller = new AbortController();
    const response = await fetch(`${server.url}/stream`, { signal: controller.signal });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(parseSseData(new TextDecoder().decode(first.value))).toEqual(['{"content":"A"}']);
    expect(await staysSilent(reader, 150)).toBe(true);
    expect(server.openConnections()).toBeGreaterThanOrEqual(1);

    const closed = server.nextConnectionClose();
    controller.abort();
    await closed;
  });

  it("never-end: sends JSON headers and never the body", async () => {
    fault = { kind: "never-end" };
    const controller = new AbortController();
    const response = await fetch(`${server.url}/json`, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(await staysSilent(response.body!.getReader(), 150)).toBe(true);
    const closed = server.nextConnectionClose();
    controller.abort();
    await closed;
  });

  it("slow-drip: paces every chunk, the first one too", async () => {
    fault = { kind: "slow-drip", intervalMs: 30 };
    const startedAt = Date.now();
    const response = await fetch(`${server.url}/stream`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const arrivals: number[] = [];
    let text = "";
    for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
      arrivals.push(Date.now() - startedAt);
      text += decoder.decode(piece.value, { stream: true });
    }
    expect(parseSseData(text)).toEqual([...healthyFrames, "[DONE]"]);
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals[0]).toBeGreaterThanOrEqual(20);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(80);
  });

  it("slow-drip: drips a JSON body in several pieces", async () => {
    fault = { kind: "slow-drip", intervalMs: 30 };
    const response = await fetch(`${server.url}/json`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const pieces: string[] = [];
    for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
      pieces.push(decoder.decode(piece.value, { stream: true }));
    }
    expect(pieces.length).toBeGreaterThan(1);
    expect(JSON.parse(pieces.join(""))).toEqual(jsonBody);
  });

  it("not-json: answers 200 application/json with an HTML body", async () => {
    fault = { kind: "not-json" };
    const response = await fetch(`${server.url}/json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe("<html>oops</html>");
  });

  it("html-block: answers 403 with a Cloudflare block page", async () => {
    fault = { kind: "html-block" };
    const response = await fetch(`${server.url}/stream`);
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("server")).toBe("cloudflare");
    const page = await response.text();
    expect(page).toContain("<title>Attention Required! | Cloudflare</title>");
    expect(page).toContain("Sorry, you have been blocked");
  });

  it("empty: streams only [DONE]", async () => {
    fault = { kind: "empty" };
    const response = await fetch(`${server.url}/stream`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("data: [DONE]\n\n");
  });

  it("empty: answers the empty JSON body", async () => {
    fault = { kind: "empty" };
    expect(await (await fetch(`${server.url}/json`)).json()).toEqual({ message: "" });
  });

  it("drop: destroys the socket before any response", async () => {
    fault = { kind: "drop" };
    const before = server.requests.length;
    await expect(fetch(`${server.url}/stream`)).rejects.toThrow("fetch failed");
    expect(server.requests.length).toBe(before + 1);
  });
});
