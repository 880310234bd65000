import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { rawExchange, requestBytes } from "../test-support/raw-exchange.js";
import type { ErrorBody } from "./__fixtures__/http-bodies.js";
import { type ScriptedProvider, scriptedProvider } from "./__fixtures__/scripted-provider.js";
import { type ScriptedServerOptions, startScriptedServer } from "./__fixtures__/scripted-server.js";
import type { RegistryConfigInput } from "./config.js";
import type { RunningServer } from "./server.js";

/*
 * The HTTP edge against what a hostile web page, a careless client or a flood of
 * connections can do (issue 14, findings 4, 6, 7, 8 and 10).
 */

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

async function serve(
  providers: ScriptedProvider[],
  config: RegistryConfigInput = {},
  options: ScriptedServerOptions = {},
) {
  const server = await startScriptedServer(providers, config, { ...options, logLevel: "info" });
  servers.push(server);
  return server;
}

const hello = { model: "test-model", messages: [{ role: "user", content: "Hi" }] };

function errorOf(body: Buffer | undefined): ErrorBody["error"] {
  return (JSON.parse(body?.toString("utf8") ?? "{}") as ErrorBody).error;
}

/** A raw request with the given headers (host, content-type…) and a JSON body when given. */
function raw(
  server: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
) {
  return rawExchange(
    server.port,
    requestBytes({
      method,
      path,
      headers,
      body: body === undefined ? undefined : Buffer.from(body),
    }),
  );
}

describe("DNS rebinding: the Host allowlist", () => {
  it("refuses a foreign Host with 403 in OpenAI's shape, and no provider is called", async () => {
    const provider = scriptedProvider({ id: "alpha" });
    const server = await serve([provider]);
    // What a rebound page can send without a preflight: a text/plain "simple request".
    const chat = await raw(
      server,
      "POST",
      "/v1/chat/completions",
      { host: "evil.example", "content-type": "text/plain" },
      JSON.stringify(hello),
    );
    expect(chat.reply?.status).toBe(403);
    expect(chat.reply?.headers["content-type"]).toMatch(/^application\/json/);
    expect(errorOf(chat.reply?.body)).toMatchObject({
      type: "permission_error",
      code: "host_not_allowed",
    });
    const providers = await raw(server, "GET", "/v1/providers", { host: "evil.example:1337" });
    expect(providers.reply?.status).toBe(403);
    expect(providers.reply?.body.toString()).not.toContain("127.0.0.1/alpha");
    expect(provider.calls).toHaveLength(0);
  });

  it("accepts the loopback names with any port, IP addresses, and the hosts the config lists", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], {
      server: { allowedHosts: ["registry.internal"] },
    });
    for (const host of [
      "localhost",
      "LOCALHOST:8080",
      "127.0.0.1",
      `127.0.0.1:${server.port}`,
      "[::1]:1337",
      "[::1]",
      "192.168.1.20:1337",
      "registry.internal:443",
    ]) {
      const outcome = await raw(server, "GET", "/v1/models", { host });
      expect(outcome.reply?.status, host).toBe(200);
    }
    for (const host of ["localhost.evil.example", "registry.internal.evil.example", "evil"]) {
      const outcome = await raw(server, "GET", "/v1/models", { host });
      expect(outcome.reply?.status, host).toBe(403);
    }
  });

  it('accepts any Host when the list holds "*"', async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], {
      server: { allowedHosts: ["*"] },
    });
    const outcome = await raw(server, "GET", "/v1/models", { host: "evil.example" });
    expect(outcome.reply?.status).toBe(200);
  });
});

describe("request bodies must be JSON", () => {
  it("answers a POST whose content type is not JSON with 415, before calling any provider", async () => {
    const provider = scriptedProvider({ id: "alpha" });
    const server = await serve([provider]);
    for (const type of [
      "text/plain",
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=utf-16le",
      "application/jsonx",
      undefined,
    ]) {
      const outcome = await raw(
        server,
        "POST",
        "/v1/chat/completions",
        type === undefined ? {} : { "content-type": type },
        JSON.stringify(hello),
      );
      expect(outcome.reply?.status, type).toBe(415);
      expect(errorOf(outcome.reply?.body), type).toMatchObject({
        type: "invalid_request_error",
        code: "unsupported_media_type",
      });
    }
    expect(provider.calls).toHaveLength(0);
  });

  it("accepts application/json with parameters and +json types", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    for (const type of [
      "application/json",
      "Application/JSON; charset=utf-8",
      'application/json;charset="UTF-8"',
      "application/vnd.api+json",
    ]) {
      const outcome = await raw(
        server,
        "POST",
        "/v1/chat/completions",
        { "content-type": type },
        JSON.stringify(hello),
      );
      expect(outcome.reply?.status, type).toBe(200);
    }
  });

  it("reads a body that starts with a UTF-8 byte order mark", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const outcome = await raw(
      server,
      "POST",
      "/v1/chat/completions",
      { "content-type": "application/json" },
      `\uFEFF${JSON.stringify(hello)}`,
    );
    expect(outcome.reply?.status).toBe(200);
  });
});

describe("CORS", () => {
  it("is off by default: no preflight answer, no Access-Control header", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const preflight = await raw(server, "OPTIONS", "/v1/chat/completions", {
      origin: "http://app.example",
      "access-control-request-method": "POST",
    });
    expect(preflight.reply?.status).toBe(405);
    expect(preflight.reply?.headers["access-control-allow-origin"]).toBeUndefined();
    const get = await raw(server, "GET", "/v1/models", { origin: "http://app.example" });
    expect(get.reply?.status).toBe(200);
    expect(get.reply?.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("answers the preflight of a listed origin, echoes only listed origins, and varies on Origin", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], {
      server: { corsOrigins: ["http://app.example:3000"] },
    });
    const preflight = await raw(server, "OPTIONS", "/v1/chat/completions", {
      origin: "http://app.example:3000",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type, x-stainless-os",
    });
    expect(preflight.reply?.status).toBe(204);
    expect(preflight.reply?.headers).toMatchObject({
      "access-control-allow-origin": "http://app.example:3000",
      "access-control-allow-headers": "authorization, content-type, x-stainless-os",
      vary: "Origin",
    });
    expect(preflight.reply?.headers["access-control-allow-methods"]).toContain("POST");
    const foreign = await raw(server, "OPTIONS", "/v1/chat/completions", {
      origin: "http://evil.example",
      "access-control-request-method": "POST",
    });
    expect(foreign.reply?.status).toBe(403);
    expect(foreign.reply?.headers["access-control-allow-origin"]).toBeUndefined();
    const listed = await raw(
      server,
      "POST",
      "/v1/chat/completions",
      { origin: "http://app.example:3000", "content-type": "application/json" },
      JSON.stringify(hello),
    );
    expect(listed.reply?.status).toBe(200);
    expect(listed.reply?.headers["access-control-allow-origin"]).toBe("http://app.example:3000");
    expect(listed.reply?.headers.vary).toBe("Origin");
    const other = await raw(server, "GET", "/v1/models", { origin: "http://evil.example" });
    expect(other.reply?.headers["access-control-allow-origin"]).toBeUndefined();
    expect(other.reply?.headers.vary).toBe("Origin");
  });
});

describe("what needs the API key", () => {
  it("puts /metrics behind the key when keys are set, unless the config opens it", async () => {
    const env = { G4F_API_KEY: "sk-edge" };
    const closed = await serve([scriptedProvider({ id: "alpha" })], {}, { env });
    expect((await fetch(`${closed.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${closed.url}/v1/providers`)).status).toBe(401);
    const withKey = await fetch(`${closed.url}/metrics`, {
      headers: { authorization: "Bearer sk-edge" },
    });
    expect(withKey.status).toBe(200);
    expect((await fetch(`${closed.url}/healthz`)).status).toBe(200);
    const open = await serve(
      [scriptedProvider({ id: "alpha" })],
      { server: { metricsRequireKey: false } },
      { env },
    );
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
  });
});

/** A socket that made one keep-alive request and now sits idle, holding its connection. */
async function idleKeptAlive(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("data", () => resolve());
    socket.write("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
  });
  return socket;
}

describe("too many connections", () => {
  it("answers the connection over the cap with 503 in OpenAI's shape and closes it", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], {
      server: { maxConnections: 4 },
    });
    const serverSockets: Socket[] = [];
    server.httpServer.on("connection", (socket: Socket) => serverSockets.push(socket));
    const held = await Promise.all([0, 1, 2, 3].map(() => idleKeptAlive(server.port)));
    const over = await raw(server, "GET", "/v1/models", {});
    expect(over.reply?.status).toBe(503);
    expect(over.reply?.headers.connection).toBe("close");
    expect(errorOf(over.reply?.body)).toMatchObject({
      type: "service_unavailable",
      code: "too_many_connections",
    });
    const closed = serverSockets
      .slice(0, 4)
      .map((socket) => new Promise((resolve) => socket.once("close", resolve)));
    for (const socket of held) socket.destroy();
    await Promise.all(closed);
    expect((await raw(server, "GET", "/v1/models", {})).reply?.status).toBe(200);
  });

  it("closes a connection that sends nothing once the header timeout passes", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], {
      server: { headersTimeoutMs: 1_000 },
    });
    const silent = connect(server.port, "127.0.0.1");
    silent.on("error", () => undefined);
    silent.resume();
    // Without the shorter timeout (and Node's 30 s check interval) this waits a minute.
    await new Promise((resolve) => silent.once("close", resolve));
    expect(silent.destroyed).toBe(true);
  });
});

describe("clients that half-close", () => {
  /** Send a streamed chat request on a raw socket and half-close it (FIN) at once. */
  async function halfClosedStream(
    server: RunningServer,
    provider: ScriptedProvider,
    stream = true,
  ) {
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.resume();
    const called = new Promise<void>((resolve) => {
      const listener = () => {
        server.httpServer.off("request", listener);
        resolve();
      };
      server.httpServer.on("request", listener);
    });
    socket.end(
      requestBytes({
        method: "POST",
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json", connection: "keep-alive" },
        body: Buffer.from(JSON.stringify({ ...hello, stream })),
      }),
    );
    await called;
    while (provider.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const signal = provider.calls[0]?.signal as AbortSignal;
    await new Promise((resolve) => {
      if (signal.aborted) resolve(undefined);
      else signal.addEventListener("abort", resolve);
    });
    await new Promise((resolve) => socket.once("close", resolve));
    expect(server.openRequests()).toBe(0);
  }

  it("ends the upstream call of a client that sends FIN after its request, before the first chunk", async () => {
    const provider = scriptedProvider({ id: "alpha", script: [[{ wait: 60_000 }, "Hi"]] });
    await halfClosedStream(await serve([provider]), provider);
  });

  it("ends the upstream call of a client that sends FIN after a request for a JSON answer", async () => {
    const provider = scriptedProvider({ id: "alpha", script: [["Hel", { wait: 60_000 }, "lo"]] });
    await halfClosedStream(await serve([provider]), provider, false);
  });

  it("ends the upstream call of a client that sends FIN after its request, once the stream runs", async () => {
    const provider = scriptedProvider({ id: "alpha", script: [["Hel", { wait: 60_000 }, "lo"]] });
    await halfClosedStream(await serve([provider]), provider);
  });
});

describe("requests node cannot parse", () => {
  it("never writes an error answer into a stream already under way on that connection", async () => {
    const provider = scriptedProvider({ id: "alpha", script: [["Hel", { wait: 60_000 }, "lo"]] });
    const server = await serve([provider]);
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => undefined);
    let received = "";
    await new Promise<void>((resolve) => {
      socket.once("data", () => resolve());
      socket.write(
        requestBytes({
          method: "POST",
          path: "/v1/chat/completions",
          headers: { "content-type": "application/json", connection: "keep-alive" },
          body: Buffer.from(JSON.stringify({ ...hello, stream: true })),
        }),
      );
    });
    socket.on("data", (data: Buffer) => {
      received += data.toString("latin1");
    });
    // A second, broken request on the same connection while the first answer streams.
    socket.write("GET /v1/mo\u0001dels HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    await new Promise((resolve) => socket.once("close", resolve));
    expect(received).not.toContain("HTTP/1.1 400");
    expect(received).not.toContain("malformed_request");
    const signal = provider.calls[0]?.signal as AbortSignal;
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve));
  });
});

describe("bounded logs and request checks", () => {
  it("logs at most a bounded prefix of a long path", async () => {
    const logLines: string[] = [];
    const server = await serve([scriptedProvider({ id: "alpha" })], {}, { logLines });
    const path = `/v1/${"x".repeat(15_000)}`;
    const outcome = await raw(server, "GET", path, {});
    expect(outcome.reply?.status).toBe(404);
    expect(outcome.reply?.body.byteLength).toBeLessThan(1_000);
    const line = logLines.find((text) => text.includes('"msg":"request"')) ?? "";
    expect(line).toContain("…(15004 characters)");
    expect(line.length).toBeLessThan(1_000);
  });

  it("refuses a user message whose content is null, naming the field", async () => {
    const provider = scriptedProvider({ id: "alpha" });
    const server = await serve([provider]);
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "test-model",
        messages: [
          { role: "assistant", content: null },
          { role: "user", content: null },
        ],
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.param).toBe("messages.1.content");
    expect(provider.calls).toHaveLength(0);
  });

  it("refuses more messages than the config allows with 400 naming the limit", async () => {
    const provider = scriptedProvider({ id: "alpha" });
    const server = await serve([provider], { server: { maxMessages: 10 } });
    const messages = Array.from({ length: 11 }, () => ({ role: "user", content: "Hi" }));
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "test-model", messages }),
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error).toMatchObject({ param: "messages", code: "too_many_messages" });
    expect(error.message).toContain("server.maxMessages");
    const ten = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "test-model", messages: messages.slice(1) }),
    });
    expect(ten.status).toBe(200);
  });

  it("refuses more content parts than the config allows, over all messages", async () => {
    const provider = scriptedProvider({ id: "alpha" });
    const server = await serve([provider], { server: { maxContentParts: 3 } });
    const part = { type: "text", text: "Hi" };
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "test-model",
        messages: [
          { role: "user", content: [part, part] },
          { role: "user", content: [part, part] },
        ],
      }),
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error).toMatchObject({ param: "messages", code: "too_many_content_parts" });
    expect(error.message).toContain("server.maxContentParts");
    expect(provider.calls).toHaveLength(0);
  });

  it("refuses 100,000 messages by default before validating them", async () => {
    const provider = scriptedProvider({ id: "alpha" });
    const server = await serve([provider]);
    const messages = Array.from({ length: 100_000 }, () => ({ role: "user", content: "Hi" }));
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "test-model", messages }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.code).toBe("too_many_messages");
  });
});

describe("health and HEAD", () => {
  it("answers HEAD on GET routes like GET, without a body", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    for (const path of ["/healthz", "/v1/models", "/metrics"]) {
      const response = await fetch(`${server.url}${path}`, { method: "HEAD" });
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).toBe("");
    }
    const post = await raw(server, "HEAD", "/v1/chat/completions", {});
    expect(post.reply?.status).toBe(405);
  });

  it("answers /healthz with 503 shutting_down during the grace period, and other requests with 503", async () => {
    const provider = scriptedProvider({ id: "alpha", script: [["Hel", { wait: 60_000 }, "lo"]] });
    const server = await serve([provider]);
    const controller = new AbortController();
    const stream = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...hello, stream: true }),
      signal: controller.signal,
    });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const closed = server.close(30_000);
    const health = await raw(server, "GET", "/healthz", {});
    expect(health.reply?.status).toBe(503);
    expect(JSON.parse(health.reply?.body.toString() ?? "{}")).toMatchObject({
      status: "shutting_down",
    });
    const chat = await raw(
      server,
      "POST",
      "/v1/chat/completions",
      { "content-type": "application/json" },
      JSON.stringify(hello),
    );
    expect(chat.reply?.status).toBe(503);
    expect(chat.reply?.headers.connection).toBe("close");
    expect(errorOf(chat.reply?.body).code).toBe("server_shutting_down");
    expect(provider.calls).toHaveLength(1);
    controller.abort();
    await closed;
  });
});
