import { once } from "node:events";
import { createServer, type Server } from "node:http";
import {
  connect,
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
} from "node:net";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  caught,
  localServersPerTest,
  type startLocalServer,
  waitUntil,
} from "../test-support/local-server.js";
import {
  closeDispatchers,
  closeDispatchersWithin,
  getDispatcher,
  readJson,
  readyPiece,
  responseHeader,
  sendRequest,
} from "./http-client.js";
import {
  AbortError,
  ConnectionError,
  InvalidResponseError,
  MissingAuthError,
  RateLimitError,
  TimeoutError,
} from "./provider-errors.js";

const { serve, closeAfterTest } = localServersPerTest();

/**
 * On loopback TCP connects at once; a TCP server that never answers the TLS
 * handshake keeps undici in its connect phase.
 */
async function silentTlsServer(): Promise<{ port: number; sockets: Socket[] }> {
  const silent: TcpServer = createTcpServer(() => {});
  const sockets: Socket[] = [];
  silent.on("connection", (socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  closeAfterTest({
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    },
  });
  return { port: (silent.address() as { port: number }).port, sockets };
}

describe("sendRequest", () => {
  it("posts JSON and reads JSON back, validated by a schema", async () => {
    const server = await serve((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end('{"answer":42}');
    });
    const response = await sendRequest({
      provider: "Example",
      url: `${server.url}/v1/x`,
      json: { question: "?" },
    });
    expect(await readJson(response, z.object({ answer: z.number() }), "Example")).toEqual({
      answer: 42,
    });
    expect(server.requests[0]).toMatchObject({
      method: "POST",
      url: "/v1/x",
      body: '{"question":"?"}',
    });
    expect(server.requests[0]?.headers["content-type"]).toBe("application/json");
  });

  it("hands back the answer's headers as undici's own request() does: lower-case names, a repeated one as a list", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, [
        ["Content-Type", "text/event-stream"],
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
        ["X-Request-Id", "req_1"],
        ["x-latin", "caf\u00e9"],
      ]);
      response.end("done");
    });
    const response = await sendRequest({ provider: "Example", url: server.url });
    const expected = await request(server.url, { dispatcher: getDispatcher(undefined, 10_000) });
    await expected.body.text();
    expect(response.headers).toEqual(expected.headers);
    expect(response.headers).toMatchObject({
      "content-type": "text/event-stream",
      "set-cookie": ["a=1", "b=2"],
      "x-request-id": "req_1",
      "x-latin": "caf\u00e9",
    });
    expect(await response.text()).toBe("done");
    // Read again, the same object.
    expect(response.headers).toBe(response.headers);
  });

  it("shares one pooled dispatcher per proxy and connect timeout, and makes new ones once they are closed", async () => {
    const direct = getDispatcher(undefined, 1_000);
    expect(getDispatcher(undefined, 1_000)).toBe(direct);
    expect(getDispatcher(undefined, 2_000)).not.toBe(direct);
    const proxied = getDispatcher("http://127.0.0.1:9", 1_000);
    expect(proxied).not.toBe(direct);
    expect(getDispatcher("http://127.0.0.1:9", 1_000)).toBe(proxied);
    await closeDispatchers();
    // undici's dispatchers say whether they are closed (its types leave it out).
    for (const closed of [direct, proxied])
      expect((closed as unknown as { closed: boolean }).closed).toBe(true);
    expect(getDispatcher(undefined, 1_000)).not.toBe(direct);
  });

  it("reads one header from the raw ones as the headers object holds it, before and after that object is made", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, [
        ["Content-Type", "text/event-stream"],
        ["X-Twice", "one"],
        ["x-twice", "two"],
        ["X-Three", "a"],
        ["X-Three", "b"],
        ["X-Three", "c"],
        ["X-Abcdefg", "same length as x-twice"],
        ["CONTENT-TYPE", "text/plain"],
        ["Content-Typf", "one letter off"],
      ]);
      response.end();
    });
    const names = ["content-type", "x-twice", "x-three", "x-absent", "constructor", "toString"];
    const first = await sendRequest({ provider: "Example", url: server.url });
    const before = names.map((name) => responseHeader(first, name));
    const second = await sendRequest({ provider: "Example", url: server.url });
    const parsed = second.headers;
    const after = names.map((name) => responseHeader(second, name));
    expect(before).toEqual(names.map((name) => parsed[name]));
    expect(after).toEqual(before);
    expect(before.slice(0, 4)).toEqual([
      ["text/event-stream", "text/plain"],
      ["one", "two"],
      ["a", "b", "c"],
      undefined,
    ]);
    await Promise.all([first.text(), second.text()]);
  });

  it("takes the pieces already queued at once, in order, then the end, as next() would give them", async () => {
    let finish: (() => void) | undefined;
    const server = await serve((_request, response) => {
      response.writeHead(200);
      response.write("one,");
      finish = () => response.end("two");
    });
    const response = await sendRequest({ provider: "Example", url: server.url });
    const iterator = response.body[Symbol.asyncIterator]();
    // The first piece is read through next(); nothing else is there yet.
    const first = await iterator.next();
    expect(Buffer.from(first.value as Uint8Array).toString()).toBe("one,");
    expect(readyPiece(iterator)).toBeUndefined();
    finish?.();
    const second = await iterator.next();
    expect(Buffer.from(second.value as Uint8Array).toString()).toBe("two");
    // The end may come in a later read of the socket; once there, it is taken at once
    // (again and again: the end stays the end).
    await waitUntil(() => readyPiece(iterator) !== undefined, 2_000);
    expect(readyPiece(iterator)).toEqual({ done: true, value: undefined });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("takes nothing at once from a body that is not a call's, nor from a failed call", async () => {
    async function* other() {
      yield new Uint8Array([1]);
    }
    expect(readyPiece(other())).toBeUndefined();
    const server = await serve((_request, response) => {
      response.writeHead(200);
      response.write("partial");
    });
    const response = await sendRequest({ provider: "Example", url: server.url });
    const iterator = response.body[Symbol.asyncIterator]();
    await iterator.next();
    response.close();
    expect(readyPiece(iterator)).toBeUndefined();
    expect(await caught(iterator.next())).toBeInstanceOf(AbortError);
  });

  it("keeps connections pooled instead of opening one per request", async () => {
    let connections = 0;
    const server = await serve((_request, response) => response.end("ok"));
    server.server.on("connection", () => connections++);
    for (let index = 0; index < 20; index++) {
      const response = await sendRequest({ provider: "Example", url: server.url, json: { index } });
      expect(await response.text()).toBe("ok");
    }
    // undici may open a second socket when the next request goes out in the same tick
    // the previous one frees its socket; it never opens one per request.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it("opens no spare upstream connection for a call cancelled mid-answer", async () => {
    let connections = 0;
    const server = await serve((request, response) => {
      if (request.url === "/whole") response.end("ok");
      else response.write("data: start\n\n");
    });
    server.server.on("connection", () => connections++);
    const cancelled = 5;
    for (let index = 0; index < cancelled; index++) {
      const controller = new AbortController();
      const response = await sendRequest({
        provider: "Example",
        url: `${server.url}/stream`,
        signal: controller.signal,
      });
      const iterator = response.body[Symbol.asyncIterator]();
      await iterator.next();
      controller.abort();
      expect(await caught(iterator.next())).toBeInstanceOf(AbortError);
      await waitUntil(() => server.sockets.size === 0, 1000);
    }
    // One call answered whole after them: it needs a connection of its own, since a
    // cancelled call's socket cannot be reused, and nothing else was opened meanwhile.
    const last = await sendRequest({ provider: "Example", url: `${server.url}/whole` });
    expect(await last.text()).toBe("ok");
    expect(connections).toBe(cancelled + 1);
  });

  it("cuts calls still waiting on an upstream that never answers when closing within a time limit", async () => {
    const server = await serve(() => {});
    const request = caught(sendRequest({ provider: "Example", url: server.url }));
    await waitUntil(() => server.requests.length === 1);
    const started = performance.now();
    await closeDispatchersWithin(100);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await request).toBeInstanceOf(AbortError);
    await waitUntil(() => server.sockets.size === 0, 1000);
  });

  it("lets a call in flight end before the pool closes when closing without a time limit", async () => {
    let answer: (() => void) | undefined;
    const server = await serve((_request, response) => {
      answer = () => response.end("late");
    });
    const request = sendRequest({ provider: "Example", url: server.url }).then((response) =>
      response.text(),
    );
    await waitUntil(() => answer !== undefined);
    const closing = closeDispatchers();
    answer?.();
    expect(await request).toBe("late");
    await closing;
  });

  it("names the bad field when the JSON has the wrong shape, and says when it is not JSON", async () => {
    const server = await serve((request, response) =>
      response.end(request.url === "/html" ? "<html>oops</html>" : '{"answer":"x"}'),
    );
    const wrongShape = await caught(
      sendRequest({ provider: "Example", url: server.url }).then((response) =>
        readJson(response, z.object({ answer: z.number() }), "Example"),
      ),
    );
    expect(wrongShape).toBeInstanceOf(InvalidResponseError);
    expect((wrongShape as Error).message).toContain("answer:");
    const notJson = await caught(
      sendRequest({ provider: "Example", url: `${server.url}/html` }).then((response) =>
        readJson(response, z.object({}), "Example"),
      ),
    );
    expect((notJson as Error).message).toContain("not JSON");
  });

  it("turns a non-2xx answer into the typed error with status, message and retry-after", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(429, { "content-type": "application/json", "retry-after": "2" });
      response.end('{"error":{"message":"Too many requests"}}');
    });
    const error = await caught(sendRequest({ provider: "Example", url: server.url }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({
      status: 429,
      retryAfter: 2,
      provider: "Example",
      retryable: true,
    });
    expect((error as Error).message).toBe("Example answered 429: Too many requests");
  });

  it("hands a non-2xx answer back when asked to", async () => {
    const server = await serve((_request, response) => {
      response.statusCode = 503;
      response.end("busy");
    });
    const response = await sendRequest({
      provider: "Example",
      url: server.url,
      throwOnStatus: false,
    });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("busy");
  });

  it("never puts an authorization header value into an error, even when the upstream echoes it", async () => {
    const server = await serve((request, response) => {
      response.writeHead(401, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          message: `invalid key ${request.headers.authorization}`,
          echo: request.headers,
        }),
      );
    });
    const token = "sk-test-0123456789abcdef";
    const error = await caught(
      sendRequest({
        provider: "Example",
        url: server.url,
        headers: { authorization: `Bearer ${token}`, "x-api-key": token },
      }),
    );
    expect(error).toBeInstanceOf(MissingAuthError);
    const everything = JSON.stringify({
      ...(error as object),
      message: (error as Error).message,
      stack: (error as Error).stack,
    });
    expect(everything).not.toContain(token);
    expect(everything).toContain("[redacted]");
  });

  it("keeps extra secret values out of errors too", async () => {
    const server = await serve((request, response) => {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ message: `device ${request.headers["x-device-uuid"]} failed` }),
      );
    });
    const device = "0b8f8a4e-5f0c-4b52-9d0e-1a2b3c4d5e6f";
    const error = await caught(
      sendRequest({
        provider: "Example",
        url: server.url,
        headers: { "x-device-uuid": device },
        secrets: [device],
      }),
    );
    expect((error as Error).message).toBe("Example answered 500: device [redacted] failed");
  });

  it("fails with a retryable ConnectionError when nothing listens on the port", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const error = await caught(
      sendRequest({ provider: "Example", url: `http://127.0.0.1:${port}/` }),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).retryable).toBe(true);
    expect((error as Error).message).toContain("ECONNREFUSED");
  });
});

describe("timeouts", () => {
  it("fires the connect timeout when the TLS handshake never completes", async () => {
    const { port } = await silentTlsServer();
    const error = await caught(
      sendRequest({
        provider: "Example",
        url: `https://127.0.0.1:${port}/`,
        timeouts: { connectMs: 150 },
      }),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "connect", timeoutMs: 150, retryable: true });
  });

  it("fires the first-byte timeout when the headers do not come", async () => {
    // Headers that never come: only the timeout can end the call, on any machine load.
    const server = await serve(() => {});
    const error = await caught(
      sendRequest({ provider: "Example", url: server.url, timeouts: { firstByteMs: 100 } }),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "first-byte", timeoutMs: 100 });
  });

  it("keeps each call's own deadline when calls without a control share one timer", async () => {
    // Headers that never come: only the deadlines end these calls.
    const server = await serve(() => {});
    const long = caught(
      sendRequest({ provider: "Example", url: server.url, timeouts: { firstByteMs: 400 } }),
    );
    // Joins after the long one, due sooner: the timer must be armed sooner for it.
    const started = performance.now();
    const short = await caught(
      sendRequest({ provider: "Example", url: server.url, timeouts: { firstByteMs: 60 } }),
    );
    expect(short).toMatchObject({ phase: "first-byte", timeoutMs: 60 });
    expect(performance.now() - started).toBeLessThan(400);
    // The short one's deadline gone, the long one's still fires.
    expect(await long).toMatchObject({ phase: "first-byte", timeoutMs: 400 });
  });

  it("fires the idle timeout when the body stalls between chunks", async () => {
    const server = await serve((_request, response) => {
      response.write("first");
    });
    const response = await sendRequest({
      provider: "Example",
      url: server.url,
      timeouts: { idleMs: 100 },
    });
    const error = await caught(response.text());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "idle", timeoutMs: 100 });
  });

  it("fires the total timeout on a body that keeps dripping", async () => {
    const server = await serve((_request, response) => {
      const timer = setInterval(() => response.write("."), 20);
      response.on("close", () => clearInterval(timer));
    });
    // On a loaded machine the 200 ms can pass before the headers are read: the total
    // deadline covers both, so the call and its body are awaited as one.
    const error = await caught(
      sendRequest({
        provider: "Example",
        url: server.url,
        timeouts: { totalMs: 200, idleMs: 1000 },
      }).then((response) => response.text()),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "total", timeoutMs: 200 });
  });
});

describe("cancellation", () => {
  /** A request to a local server answering with `handler`, under a signal the test aborts. */
  async function abortableRequest(handler: Parameters<typeof startLocalServer>[0]) {
    const server = await serve(handler);
    const controller = new AbortController();
    const response = await sendRequest({
      provider: "Example",
      url: server.url,
      signal: controller.signal,
    });
    return { server, controller, response };
  }

  it("closes the upstream socket at once when the signal aborts mid-body", async () => {
    const { server, controller, response } = await abortableRequest((_request, response) => {
      response.write("data: start\n\n");
    });
    const iterator = response.body[Symbol.asyncIterator]();
    await iterator.next();
    expect(server.sockets.size).toBe(1);
    const reading = caught(iterator.next());
    controller.abort();
    expect(await reading).toBeInstanceOf(AbortError);
    // Nothing else closes a socket mid-body (undici's body timeout is 300 s): the bound is a guard.
    await waitUntil(() => server.sockets.size === 0, 10_000);
  });

  it("closes the upstream socket when the signal aborts while waiting for headers", async () => {
    const server = await serve(() => {});
    const controller = new AbortController();
    const request = caught(
      sendRequest({ provider: "Example", url: server.url, signal: controller.signal }),
    );
    await waitUntil(() => server.requests.length === 1);
    controller.abort();
    expect(await request).toBeInstanceOf(AbortError);
    await waitUntil(() => server.sockets.size === 0, 10_000);
  });

  it("ends a call still waiting for its connection at once when the signal aborts", async () => {
    const { port, sockets } = await silentTlsServer();
    const controller = new AbortController();
    const request = caught(
      sendRequest({
        provider: "Example",
        url: `https://127.0.0.1:${port}/`,
        signal: controller.signal,
        timeouts: { connectMs: 20_000 },
      }),
    );
    await waitUntil(() => sockets.length === 1);
    const started = Date.now();
    controller.abort();
    expect(await request).toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("fails reads of a body that arrived whole but was not read yet when the signal aborts, as fetch does", async () => {
    const { controller, response } = await abortableRequest((_request, response) => {
      response.end("all of it");
    });
    // Let the whole body arrive before anything reads it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await caught(response.text())).toBeInstanceOf(AbortError);
  });

  it("is not touched by an abort after the body was read to its end", async () => {
    const { server, controller, response } = await abortableRequest((_request, response) => {
      response.end("all of it");
    });
    expect(await response.text()).toBe("all of it");
    controller.abort();
    response.close();
    // The connection went back to the pool and stays open.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.sockets.size).toBe(1);
  });

  it("fails at once without a request when the signal is already aborted", async () => {
    const server = await serve((_request, response) => response.end());
    const error = await caught(
      sendRequest({ provider: "Example", url: server.url, signal: AbortSignal.abort() }),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(0);
  });
});

describe("backpressure", () => {
  it("stops reading from the upstream while the consumer does not read, and goes on when it does", async () => {
    const piece = Buffer.alloc(256 * 1024, "x");
    let written = 0;
    let sawBackpressure = false;
    const total = 64 * 1024 * 1024;
    const server = await serve((_request, response) => {
      const pump = (): void => {
        while (written < total) {
          written += piece.length;
          if (!response.write(piece)) {
            sawBackpressure = true;
            response.once("drain", pump);
            return;
          }
        }
        response.end();
      };
      pump();
    });
    const response = await sendRequest({ provider: "Example", url: server.url });
    const iterator = response.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    let received = first.done ? 0 : first.value.byteLength;
    // The consumer rests: the upstream must feel it instead of the client buffering it all.
    await waitUntil(() => sawBackpressure, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const writtenWhileResting = written;
    expect(writtenWhileResting).toBeLessThan(total / 2);
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      received += next.value.byteLength;
    }
    expect(written).toBe(total);
    expect(received).toBe(total);
  });
});

describe("proxy", () => {
  it("reaches the target through a local HTTP proxy", async () => {
    const target = await serve((request, response) => response.end(`target saw ${request.url}`));
    const tunnels: string[] = [];
    const proxy: Server = createServer();
    proxy.on("connect", (request, clientSocket: Socket, head: Buffer) => {
      tunnels.push(request.url ?? "");
      const [host, port] = (request.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        clientSocket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(clientSocket);
        clientSocket.pipe(upstream);
      });
      upstream.on("error", () => clientSocket.destroy());
      clientSocket.on("error", () => upstream.destroy());
    });
    // Plain (non-CONNECT) proxy requests carry the absolute URL.
    proxy.on("request", (request, response) => {
      tunnels.push(request.url ?? "");
      response.end("proxied without tunnel");
    });
    proxy.listen(0, "127.0.0.1");
    await once(proxy, "listening");
    closeAfterTest({
      close: () =>
        new Promise((resolve) => {
          proxy.closeAllConnections();
          proxy.close(() => resolve());
        }),
    });
    const { port } = proxy.address() as { port: number };
    const response = await sendRequest({
      provider: "Example",
      url: `${target.url}/via-proxy`,
      proxy: `http://127.0.0.1:${port}`,
    });
    expect(await response.text()).toBe("target saw /via-proxy");
    expect(tunnels).toEqual([target.url.replace("http://", "")]);
  });
});
