import { afterEach, describe, expect, it } from "vitest";
import { destroySocket, sendJson, sendSse, sendText } from "./responses.js";
import { parseSseData } from "./sse-data.js";
import type { TestServer } from "./test-server.js";
import { startTestServer } from "./test-server.js";

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Reads a streamed body and notes when each piece arrived, relative to `startedAt`. */
async function readArrivals(
  body: ReadableStream<Uint8Array>,
  startedAt: number,
): Promise<{ text: string; at: number }[]> {
  const decoder = new TextDecoder();
  const arrivals: { text: string; at: number }[] = [];
  for await (const piece of body) {
    arrivals.push({ text: decoder.decode(piece, { stream: true }), at: Date.now() - startedAt });
  }
  return arrivals;
}

describe("sendJson", () => {
  it("answers the status with a JSON body, its length and extra headers", async () => {
    server = await startTestServer((_request, response) =>
      sendJson(response, 418, { teapot: true }, { "X-Extra": "yes" }),
    );
    const response = await fetch(server.url);
    expect(response.status).toBe(418);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(response.headers.get("content-length")).toBe("15");
    expect(response.headers.get("x-extra")).toBe("yes");
    expect(await response.json()).toEqual({ teapot: true });
  });

  it("lets a caller's Content-Type replace the JSON one instead of doubling it", async () => {
    server = await startTestServer((_request, response) =>
      sendJson(response, 200, {}, { "Content-Type": "application/problem+json" }),
    );
    const response = await fetch(server.url);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("sendText", () => {
  it("answers plain text unless told another content-type", async () => {
    server = await startTestServer((request, response) =>
      request.path === "/html"
        ? sendText(response, 403, "<p>no</p>", { "content-type": "text/html" })
        : sendText(response, 200, "héllo"),
    );
    const plain = await fetch(server.url);
    expect(plain.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(plain.headers.get("content-length")).toBe("6");
    expect(await plain.text()).toBe("héllo");
    const html = await fetch(`${server.url}/html`);
    expect(html.status).toBe(403);
    expect(html.headers.get("content-type")).toBe("text/html");
  });
});

describe("sendSse", () => {
  it("writes objects as JSON and strings verbatim as data frames, then [DONE]", async () => {
    server = await startTestServer((_request, response) =>
      sendSse(response, [{ n: 1 }, "plain text", { n: 2 }]),
    );
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await response.text()).toBe(
      'data: {"n":1}\n\ndata: plain text\n\ndata: {"n":2}\n\ndata: [DONE]\n\n',
    );
  });

  it("leaves out [DONE] when done is false", async () => {
    server = await startTestServer((_request, response) =>
      sendSse(response, [{ n: 1 }], { done: false }),
    );
    expect(parseSseData(await (await fetch(server.url)).text())).toEqual(['{"n":1}']);
  });

  it("sends headers at once and paces the frames after firstDelayMs and delayMs", async () => {
    server = await startTestServer((_request, response) =>
      sendSse(response, ["a", "b", "c"], { firstDelayMs: 60, delayMs: 30 }),
    );
    const startedAt = Date.now();
    const response = await fetch(server.url);
    const headersAt = Date.now() - startedAt;
    expect(response.body).not.toBeNull();
    const arrivals = await readArrivals(response.body!, startedAt);

    expect(arrivals.map((arrival) => arrival.text).join("")).toBe(
      "data: a\n\ndata: b\n\ndata: c\n\ndata: [DONE]\n\n",
    );
    expect(headersAt).toBeLessThan(arrivals[0]!.at);
    expect(arrivals[0]!.at).toBeGreaterThanOrEqual(40);
    // Every frame was paced, so the last one came well after the first.
    expect(arrivals.at(-1)!.at - arrivals[0]!.at).toBeGreaterThanOrEqual(60);
  });

  it("stops writing as soon as the client goes away", async () => {
    let finished: Promise<boolean> | undefined;
    server = await startTestServer((_request, response) => {
      finished = sendSse(
        response,
        Array.from({ length: 100 }, (_, n) => ({ n })),
        {
          delayMs: 50,
        },
      );
      return finished;
    });
    const controller = new AbortController();
    const response = await fetch(server.url, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    const abortedAt = Date.now();
    controller.abort();

    expect(await finished).toBe(false);
    // All 100 frames take 5 s: stopping well before that is the hang-up's doing.
    expect(Date.now() - abortedAt).toBeLessThan(4_000);
  });

  it("stops writing when its signal aborts", async () => {
    const stop = new AbortController();
    let finished: Promise<boolean> | undefined;
    server = await startTestServer((_request, response) => {
      finished = sendSse(response, ["a", "b", "c"], {
        delayMs: 40,
        signal: stop.signal,
        end: true,
      });
      setTimeout(() => stop.abort(), 10);
      return finished;
    });
    const controller = new AbortController();
    const response = await fetch(server.url, { signal: controller.signal });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("data: a\n\n");
    expect(await finished).toBe(false);
    controller.abort();
  });
});

describe("destroySocket", () => {
  it("makes the client's request fail without any response", async () => {
    server = await startTestServer((_request, response) => destroySocket(response));
    await expect(fetch(server.url)).rejects.toThrow("fetch failed");
    await server.waitForConnectionsClosed();
  });

  it("makes the client's body read fail after the headers", async () => {
    server = await startTestServer(async (_request, response) => {
      await sendSse(response, ["a"], { done: false, end: false });
      destroySocket(response);
    });
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });
});
