import { once } from "node:events";
import type { ClientRequest, IncomingMessage, ServerResponse } from "node:http";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { sendJson } from "./responses.js";
import type { TestServer } from "./test-server.js";
import { startTestServer } from "./test-server.js";

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A request on its own connection (no pooling), answered with headers only and held open. */
function openHeldRequest(
  url: string,
): Promise<{ client: ClientRequest; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const client = httpRequest(`${url}/held`, { agent: false }, (response) =>
      resolve({ client, response }),
    );
    client.on("error", reject);
    client.end();
  });
}

const holdOpen = (_request: unknown, response: ServerResponse): void => {
  response.writeHead(200, { "content-type": "text/plain" });
  response.flushHeaders();
};

describe("startTestServer", () => {
  it("listens on 127.0.0.1 at a free port", async () => {
    server = await startTestServer((_request, response) => sendJson(response, 200, { ok: true }));
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it("records every request with method, path, query, headers and parsed JSON body", async () => {
    server = await startTestServer((_request, response) => sendJson(response, 200, { ok: true }));
    await fetch(`${server.url}/v1/things?limit=2`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-trace": "abc" },
      body: JSON.stringify({ hello: "world" }),
    });
    await fetch(`${server.url}/second`);

    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests;
    expect(first).toMatchObject({
      index: 0,
      method: "POST",
      path: "/v1/things",
      url: "/v1/things?limit=2",
      bodyText: '{"hello":"world"}',
      json: { hello: "world" },
    });
    expect(first?.headers["x-trace"]).toBe("abc");
    expect(second).toMatchObject({ index: 1, method: "GET", path: "/second", bodyText: "" });
    expect(second?.json).toBeUndefined();
  });

  it("leaves json undefined when the body is not JSON", async () => {
    server = await startTestServer((_request, response) => sendJson(response, 200, {}));
    await fetch(server.url, { method: "POST", body: "{not json" });
    expect(server.requests[0]?.bodyText).toBe("{not json");
    expect(server.requests[0]?.json).toBeUndefined();
  });

  it("hands the handler the request index and its socket", async () => {
    const seen: { index: number; remotePort: number | undefined }[] = [];
    server = await startTestServer((_request, response, context) => {
      seen.push({ index: context.index, remotePort: context.socket.remotePort });
      sendJson(response, 200, {});
    });
    await fetch(server.url);
    expect(seen).toEqual([{ index: 0, remotePort: expect.any(Number) }]);
  });

  it("answers 500 with the error message when the handler throws", async () => {
    server = await startTestServer(() => {
      throw new Error("handler exploded");
    });
    const response = await fetch(server.url);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("handler exploded");
  });

  it("answers 500 when an async handler rejects", async () => {
    server = await startTestServer(async () => {
      await Promise.resolve();
      throw new Error("async failure");
    });
    const response = await fetch(server.url);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("async failure");
  });

  it("uses the handler given to setHandler for later requests", async () => {
    server = await startTestServer((_request, response) => sendJson(response, 200, { round: 1 }));
    expect(await (await fetch(server.url)).json()).toEqual({ round: 1 });
    server.setHandler((_request, response) => sendJson(response, 201, { round: 2 }));
    const second = await fetch(server.url);
    expect(second.status).toBe(201);
    expect(await second.json()).toEqual({ round: 2 });
  });

  it("counts open connections and sees them go back to 0 when the client hangs up", async () => {
    server = await startTestServer(holdOpen);
    expect(server.openConnections()).toBe(0);
    const first = await openHeldRequest(server.url);
    const second = await openHeldRequest(server.url);
    expect(server.openConnections()).toBe(2);

    first.client.destroy();
    second.client.destroy();
    await server.waitForConnectionsClosed();
    expect(server.openConnections()).toBe(0);
  });

  it("rejects waitForConnectionsClosed with a clear error while a connection stays open", async () => {
    server = await startTestServer(holdOpen);
    const held = await openHeldRequest(server.url);
    await expect(server.waitForConnectionsClosed(50)).rejects.toThrow(
      /1 connection\(s\) to the test server at http:\/\/127\.0\.0\.1:\d+ still open after 50 ms/,
    );
    held.client.destroy();
  });

  it("resolves nextConnectionClose with the time the client hung up", async () => {
    server = await startTestServer(holdOpen);
    const held = await openHeldRequest(server.url);
    const closed = server.nextConnectionClose();
    const hungUpAt = Date.now();
    held.client.destroy();
    const closedAt = await closed;
    // The server holds the request open for ever: only the hang-up can close it.
    expect(closedAt).toBeGreaterThanOrEqual(hungUpAt);
  });

  it("rejects nextConnectionClose when no connection closes in time", async () => {
    server = await startTestServer(holdOpen);
    await expect(server.nextConnectionClose(30)).rejects.toThrow(/no connection .* within 30 ms/);
  });

  it("closes a connection that sends no request after idleConnectionTimeoutMs", async () => {
    server = await startTestServer(holdOpen, { idleConnectionTimeoutMs: 100 });
    const spare = connect(server.port, "127.0.0.1");
    await once(spare, "connect");
    expect(server.openConnections()).toBe(1);
    await server.waitForConnectionsClosed(1000);
    spare.destroy();
  });

  it("closes every socket with its answer when keepAlive is false", async () => {
    server = await startTestServer((_request, response) => sendJson(response, 200, {}), {
      keepAlive: false,
    });
    const response = await fetch(server.url);
    expect(response.headers.get("connection")).toBe("close");
    await response.text();
    await server.waitForConnectionsClosed(500);
  });

  it("destroys held connections on close, and close can be called twice", async () => {
    server = await startTestServer(holdOpen);
    const held = await openHeldRequest(server.url);
    const bodyEnded = new Promise<string>((resolve) => {
      held.response.on("error", () => resolve("error"));
      held.response.on("close", () => resolve("close"));
    });
    await server.close();
    await server.close();
    expect(server.openConnections()).toBe(0);
    expect(await bodyEnded).toMatch(/error|close/);
    await expect(fetch(server.url)).rejects.toThrow();
  });
});
