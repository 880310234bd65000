import { type Agent, type IncomingHttpHeaders, request } from "node:http";

/** A whole HTTP answer: its status, headers and body text. */
export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface HttpExchangeOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** A keep-alive agent to reuse connections; default: node's global agent. */
  agent?: Agent;
}

/**
 * One request over `node:http`, its answer read to the end. It rejects when the
 * connection fails or the answer is cut before its end (a body that stops short of
 * its length, or a chunked body without its last chunk), so that a truncated answer
 * is never mistaken for a whole one.
 */
export function httpExchange(url: string, options: HttpExchangeOptions = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers: options.headers,
      agent: options.agent,
    });
    outgoing.once("error", reject);
    outgoing.once("response", (incoming) => {
      const parts: Buffer[] = [];
      incoming.on("data", (part: Buffer) => parts.push(part));
      incoming.once("error", reject);
      incoming.once("close", () => {
        if (!incoming.complete) {
          reject(new Error(`the answer was cut after ${Buffer.concat(parts).byteLength} bytes`));
          return;
        }
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          text: Buffer.concat(parts).toString("utf8"),
        });
      });
    });
    outgoing.end(options.body);
  });
}

/** A JSON POST through {@link httpExchange}. */
export function postJsonExchange(url: string, body: unknown, agent?: Agent): Promise<HttpReply> {
  return httpExchange(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    agent,
  });
}
