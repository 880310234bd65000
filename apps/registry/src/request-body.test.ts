import { once } from "node:events";
import {
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpError } from "./http-errors.js";
import { readJsonBody, readJsonBodyThen } from "./request-body.js";

/** What `readJsonBodyThen` told, in order, and whether it told it before returning. */
interface Outcome {
  calls: { kind: "body" | "refused"; value: unknown }[];
  beforeReturn: boolean;
}

const servers: ReturnType<typeof createServer>[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  }
});

/**
 * A local server that reads each request's body with `readJsonBodyThen` (limit
 * `limitBytes`), answers 204 once it has been told, and hands back the outcome.
 */
async function bodyOutcome(
  body: string,
  limitBytes: number,
  headers: Record<string, string> = {},
  send: (client: ClientRequest, body: string) => void = (client, text) => client.end(text),
): Promise<Outcome> {
  let settle: (outcome: Outcome) => void = () => {};
  const told = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const server = createServer((request: IncomingMessage, response) => {
    const outcome: Outcome = { calls: [], beforeReturn: false };
    let returned = false;
    const tell = (kind: "body" | "refused", value: unknown): void => {
      outcome.calls.push({ kind, value });
      if (!returned) outcome.beforeReturn = true;
      response.writeHead(204, { connection: "close" });
      response.end();
      // Leave time for a second call, which must never come, before handing back.
      setImmediate(() => settle(outcome));
    };
    readJsonBodyThen(
      request,
      limitBytes,
      (value) => tell("body", value),
      (error) => tell("refused", error),
    );
    returned = true;
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const client = httpRequest({
    host: "127.0.0.1",
    port,
    method: "POST",
    path: "/",
    headers: { "content-type": "application/json", ...headers },
  });
  client.on("error", () => {});
  client.on("response", (response) => response.resume());
  send(client, body);
  return told;
}

describe("readJsonBodyThen", () => {
  it("hands the parsed body on once, after the body is read", async () => {
    const outcome = await bodyOutcome('{"model":"m","messages":[]}', 1024);
    expect(outcome.calls).toEqual([{ kind: "body", value: { model: "m", messages: [] } }]);
    expect(outcome.beforeReturn).toBe(false);
  });

  it("refuses a body declared over the limit at once, before it returns, with a 413", async () => {
    const outcome = await bodyOutcome("x".repeat(100), 10);
    expect(outcome.calls).toHaveLength(1);
    expect(outcome.calls[0]?.kind).toBe("refused");
    expect(outcome.calls[0]?.value).toBeInstanceOf(HttpError);
    expect((outcome.calls[0]?.value as HttpError | undefined)?.status).toBe(413);
    expect(outcome.beforeReturn).toBe(true);
  });

  it("refuses a body that grows over the limit while read, once, with a 413", async () => {
    const outcome = await bodyOutcome(`{"a":"${"x".repeat(4096)}"}`, 100, {
      "transfer-encoding": "chunked",
    });
    expect(outcome.calls.map(({ kind }) => kind)).toEqual(["refused"]);
    expect((outcome.calls[0]?.value as HttpError | undefined)?.status).toBe(413);
  });

  it("refuses bad JSON once with a 400, and never hands a body on", async () => {
    const outcome = await bodyOutcome("{not json", 1024);
    expect(outcome.calls.map(({ kind }) => kind)).toEqual(["refused"]);
    expect((outcome.calls[0]?.value as HttpError | undefined)?.code).toBe("invalid_json");
  });

  it("hands on a body sent in several parts whole, once", async () => {
    const outcome = await bodyOutcome(
      '{"model":"m","messages":[{"role":"user","content":"Hello"}]}',
      1024,
      { "transfer-encoding": "chunked" },
      (client, text) => {
        // Each write a chunk of its own, the next one after the server read the last.
        client.write(text.slice(0, 10));
        setImmediate(() => {
          client.write(text.slice(10, 30));
          setImmediate(() => client.end(text.slice(30)));
        });
      },
    );
    expect(outcome.calls).toEqual([
      { kind: "body", value: { model: "m", messages: [{ role: "user", content: "Hello" }] } },
    ]);
  });

  it("refuses a body whose client breaks off while sending, once, with a 400, and throws nothing", async () => {
    const outcome = await bodyOutcome('{"model":"m","messages":[]}', 1024, {}, (client, text) => {
      client.setHeader("content-length", String(text.length + 100));
      client.write(text);
      // The connection reset mid-body: the request is destroyed, with no `error` listener on it.
      client.on("socket", (socket) =>
        socket.once("connect", () => setImmediate(() => socket.destroy())),
      );
    });
    expect(outcome.calls.map(({ kind }) => kind)).toEqual(["refused"]);
    expect((outcome.calls[0]?.value as HttpError | undefined)?.code).toBe("incomplete_body");
  });

  it("gives readJsonBody's promise the same body, and the same refusal", async () => {
    const server = createServer((request, response) => {
      readJsonBody(request, 1024).then(
        (body) => response.end(JSON.stringify({ body })),
        (error: HttpError) => response.end(JSON.stringify({ status: error.status })),
      );
    });
    servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const post = async (body: string) => {
      const answer = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body });
      return answer.json();
    };
    expect(await post('{"n":1}')).toEqual({ body: { n: 1 } });
    expect(await post("")).toEqual({ status: 400 });
    expect(await post("x".repeat(2000))).toEqual({ status: 413 });
  });
});
