import { once } from "node:events";
import {
  createServer,
  get,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SseWriter } from "./sse-writer.js";

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A server on 127.0.0.1 whose only route runs `handle`; resolves with its origin. */
async function serve(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<string> {
  server = createServer(handle);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** GET `origin`; resolves with the response, not yet read. */
function open(origin: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(origin, resolve).on("error", reject));
}

async function readAll(response: IncomingMessage): Promise<string> {
  let text = "";
  for await (const piece of response) text += piece.toString();
  return text;
}

const event = (index: number): string => `data: {"index":${index}}\n\n`;

describe("SseWriter", () => {
  it("sends the events written in one turn of the event loop as one write", async () => {
    let writes = 0;
    const origin = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      const write = response.write.bind(response) as (text: string) => boolean;
      response.write = ((text: string) => {
        writes++;
        return write(text);
      }) as typeof response.write;
      const writer = new SseWriter(response);
      for (let index = 0; index < 300; index++) writer.write(event(index));
      setImmediate(() => writer.end("data: [DONE]\n\n"));
    });
    const text = await readAll(await open(origin));
    expect(writes).toBe(1);
    expect(text).toBe(
      `${Array.from({ length: 300 }, (_, index) => event(index)).join("")}data: [DONE]\n\n`,
    );
  });

  it("sends an event at the end of its turn, without waiting for the next one", async () => {
    let received: () => void = () => {};
    const clientHasFirst = new Promise<void>((resolve) => {
      received = resolve;
    });
    const origin = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      const writer = new SseWriter(response);
      writer.write(event(1));
      // The second event is written only once the client holds the first: a writer
      // that kept the first back until more came would never get here.
      void clientHasFirst.then(() => writer.end(event(2)));
    });
    const answer = await open(origin);
    let text = "";
    for await (const piece of answer) {
      text += piece.toString();
      if (text === event(1)) received();
    }
    expect(text).toBe(event(1) + event(2));
  });

  it("makes the writer wait for drain while the client reads nothing, then lets every event through", async () => {
    let blockedAfter = -1;
    let markBlocked: () => void = () => {};
    const serverBlocked = new Promise<void>((resolve) => {
      markBlocked = resolve;
    });
    const written: string[] = [];
    const origin = await serve(async (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      const writer = new SseWriter(response);
      const big = "x".repeat(64 * 1024);
      for (let index = 0; index < 4096; index++) {
        const text = `data: ${index} ${big}\n\n`;
        written.push(text);
        const blocked = writer.write(text);
        if (blocked !== undefined) {
          blockedAfter = index;
          markBlocked();
          await blocked;
          break;
        }
      }
      writer.end("data: [DONE]\n\n");
    });
    const answer = await open(origin);
    answer.pause();
    // The client is not reading yet: the server must find its buffer full well before
    // 4096 pieces of 64 KiB (256 MiB) are written.
    await serverBlocked;
    const text = await readAll(answer);
    expect(blockedAfter).toBeGreaterThanOrEqual(0);
    expect(blockedAfter).toBeLessThan(4095);
    expect(text).toBe(`${written.join("")}data: [DONE]\n\n`);
  });

  it("hands what writeNow is given to the socket at once, before the turn goes on", async () => {
    const steps: string[] = [];
    const origin = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      const writer = new SseWriter(response);
      writer.write(event(0));
      writer.writeNow(event(1));
      // Nothing waits in the socket's buffer: the head and both events were written.
      steps.push(
        `corked ${response.socket?.writableCorked}, waiting ${response.socket?.writableLength}, written ${(response.socket?.bytesWritten ?? 0) > 0}`,
      );
      writer.write(event(2));
      steps.push(`queued after it, written later: ${response.socket?.writableLength}`);
      setImmediate(() => writer.end("data: [DONE]\n\n"));
    });
    const text = await readAll(await open(origin));
    expect(text).toBe(`${event(0)}${event(1)}${event(2)}data: [DONE]\n\n`);
    expect(steps).toEqual([
      "corked 0, waiting 0, written true",
      "queued after it, written later: 0",
    ]);
  });
});
