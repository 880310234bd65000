import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { closeDispatchers } from "@g4f-ts/provider-core";
import {
  type RecordedRequest,
  secretEchoForms,
  secretPiecesIn,
  sendText,
  startTestServer,
  type TestServer,
} from "@g4f-ts/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegistryConfigInput } from "./config.js";
import { type RunningServer, startServer } from "./server.js";

/*
 * One real local upstream that echoes what it was sent back in an error, in every
 * encoding an echo can take; the OpenAI-compatible provider (an API key with `/`,
 * `+`, `=` and `"`) and AmigoChat (a fresh device uuid per attempt) in front of it,
 * behind the registry. The key must reach none of the places a message goes: the
 * client's error body, an SSE error event after the commit point, `/v1/providers`'
 * last error, `/metrics`, the log, and the CLI's stderr. Raw bytes are searched,
 * for every encoding of the key (see `secretPiecesIn`).
 */

/** 45 characters, with the characters encoders change. */
const apiKey = 'sk-echo/Ab+Cd=Ef"Gh/Ij+Kl=Mn"Op/Qr+St=Uv01234';
const keyVariable = "G4F_SECRET_ECHO_TEST_KEY";

type Scenario = "status" | "text" | "stream";

/** What the upstream does with the next chat requests, and which encoding of the secret it echoes. */
let plan: { scenario: Scenario; form: string } = { scenario: "status", form: "raw" };

function encoded(secret: string, form: string): string {
  const echoed = secretEchoForms(secret)[form];
  if (echoed === undefined) throw new Error(`no echo form named ${form}`);
  return echoed;
}

/** The credential the request carried: the API key, or AmigoChat's device uuid. */
function secretOf(request: RecordedRequest): string {
  const device = request.headers["x-device-uuid"];
  if (typeof device === "string") return device;
  return String(request.headers.authorization ?? "").replace(/^Bearer /, "");
}

function answer(request: RecordedRequest, response: ServerResponse): void {
  const secret = secretOf(request);
  const forms = plan.form.split(",").map((form) => encoded(secret, form));
  const echoed = forms.join(" ");
  if (request.path === "/v1/models") {
    // Asked once, at start: the registry logs why the list could not be had.
    const listEcho = modelListForms.map((form) => encoded(secret, form)).join(" ");
    sendText(response, 401, `{"error":{"message":"Incorrect API key provided: ${listEcho}"}}`, {
      "content-type": "application/json",
    });
    return;
  }
  if (request.headers["x-device-uuid"] !== undefined) {
    // Raw bytes: a JSON body that carries the echo exactly as encoded above.
    response.writeHead(401, { "content-type": "application/json" });
    response.end(`{"message":"Bearer token missing for device ${echoed}","statusCode":401}`);
    return;
  }
  if (plan.scenario === "status") {
    response.writeHead(401, { "content-type": "application/json" });
    response.end(
      `{"error":{"message":"Incorrect API key provided: ${echoed}. Find your key in your account.","type":"invalid_request_error","code":"invalid_api_key"}}`,
    );
    return;
  }
  if (plan.scenario === "text") {
    // The key straddles the 120th character, where a snippet of a text body is cut.
    sendText(response, 200, `${"x".repeat(100)} key ${echoed} is not valid`, {
      "content-type": "text/plain",
    });
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream" });
  response.write(
    `data: ${JSON.stringify({ id: "1", object: "chat.completion.chunk", created: 1, model: "echo-model", choices: [{ index: 0, delta: { content: "Hello" }, finish_reason: null }] })}\n\n`,
  );
  response.end(`event: error\ndata: {"error":{"message":"lost the session of ${echoed}"}}\n\n`);
}

const modelListForms = ["JSON-escaped with \\/", "JSON \\u escapes", "base64url"];

let upstream: TestServer;
let server: RunningServer;
let logs = "";

function configFor(upstreamUrl: string): RegistryConfigInput {
  const oneAttempt = { retry: { maxAttempts: 1 }, timeouts: { connectMs: 2_000 } };
  return {
    discovery: { installed: false },
    logLevel: "debug",
    // Every request must reach the upstream: no cooldown skips it.
    cooldown: { failureThreshold: 1000, durationMs: 0, honorRetryAfter: false },
    providers: [
      {
        id: "echo",
        use: "@g4f-ts/provider-openai-compatible",
        options: {
          baseUrl: `${upstreamUrl}/v1`,
          apiKey: { env: keyVariable },
          models: ["echo-model"],
          ...oneAttempt,
        },
      },
      {
        // No fixed list: the registry fetches it at start, and the upstream refuses.
        id: "listing",
        use: "@g4f-ts/provider-openai-compatible",
        options: { baseUrl: `${upstreamUrl}/v1`, apiKey: { env: keyVariable }, ...oneAttempt },
      },
      {
        id: "amigo",
        use: "@g4f-ts/provider-amigochat",
        options: { baseUrl: upstreamUrl, ...oneAttempt },
      },
    ],
  };
}

beforeAll(async () => {
  upstream = await startTestServer(answer);
  server = await startServer({
    config: configFor(upstream.url),
    port: 0,
    env: { [keyVariable]: apiKey },
    logger: pino(
      { level: "debug" },
      {
        write(line: string) {
          logs += line;
        },
      },
    ),
  });
  expect(server.registry.problems).toEqual([]);
});

afterAll(async () => {
  await server.close(0);
  await upstream.close();
  await closeDispatchers();
});

async function post(body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], ...body }),
  });
  return { status: response.status, text: await response.text() };
}

async function get(path: string): Promise<string> {
  return (await fetch(`${server.url}${path}`)).text();
}

/** Every place a message of the last request went, as raw text. */
async function everyPlace(clientBody: string): Promise<Record<string, string>> {
  return {
    "the client's body": clientBody,
    "/v1/providers": await get("/v1/providers"),
    "/metrics": await get("/metrics"),
    "the log": logs,
  };
}

function expectNoPieceOf(secret: string, places: Record<string, string>): void {
  for (const [place, text] of Object.entries(places)) {
    expect({ place, pieces: secretPiecesIn(text, secret) }).toEqual({ place, pieces: [] });
  }
}

const formNames = Object.keys(secretEchoForms(apiKey));

describe("an upstream that echoes the API key", () => {
  it("when it refuses the model list leaves the key out of the start-up log", () => {
    expect(logs).toContain("could not fetch the model list");
    expect(logs).toContain("Incorrect API key provided: [redacted]");
    expectNoPieceOf(apiKey, { "the log": logs });
  });

  it.each(formNames)("in an error status never shows the key, %s", async (form) => {
    plan = { scenario: "status", form };
    const { status, text } = await post({ model: "echo-model" });
    expect(status).toBe(502);
    expect(text).toContain("Incorrect API key provided: ");
    expect(text).toContain("[redacted]");
    expectNoPieceOf(apiKey, await everyPlace(text));
  });

  it.each(formNames)("in a 200 text body never shows the key, %s", async (form) => {
    plan = { scenario: "text", form };
    const { status, text } = await post({ model: "echo-model" });
    expect(status).toBe(502);
    expect(text).toContain("neither JSON nor SSE");
    expectNoPieceOf(apiKey, await everyPlace(text));
  });

  it.each(formNames)(
    "in an error event after the first text never shows the key, %s",
    async (form) => {
      plan = { scenario: "stream", form };
      const { status, text } = await post({ model: "echo-model", stream: true });
      expect(status).toBe(200);
      expect(text).toContain('"content":"Hello"');
      expect(text).toMatch(/data: \{"error":/);
      expectNoPieceOf(apiKey, await everyPlace(text));
    },
  );
});

describe("an upstream that echoes AmigoChat's device uuid", () => {
  it.each(formNames)("never shows the uuid, and keeps the word Bearer, %s", async (form) => {
    plan = { scenario: "status", form };
    const { status, text } = await post({ model: "amigo/gpt-4o-mini" });
    const device = upstream.requests.at(-1)?.headers["x-device-uuid"];
    expect(typeof device).toBe("string");
    expect(status).toBe(502);
    // `authorization: Bearer` is a fixed header value, not a secret: the word stays.
    expect(text).toMatch(/answered 401: Bearer token missing for device \S*\[redacted\]/);
    expectNoPieceOf(device as string, await everyPlace(text));
  });
});

describe("the CLI", () => {
  const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
  const run = promisify(execFile);
  let configPath: string;

  beforeAll(async () => {
    if (!existsSync(cli))
      throw new Error(
        `build the registry first (npx tsc -p tsconfig.build.json): ${cli} is missing`,
      );
    const directory = await mkdtemp(join(tmpdir(), "g4f-secret-echo-"));
    configPath = join(directory, "config.json");
    await writeFile(configPath, JSON.stringify({ ...configFor(upstream.url), logLevel: "warn" }));
  });

  async function chat(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    try {
      return await run(
        process.execPath,
        [cli, "chat", "Hi", "--config", configPath, "--model", "echo-model", ...args],
        { env: { ...process.env, [keyVariable]: apiKey }, timeout: 15_000 },
      );
    } catch (error) {
      return error as { stdout: string; stderr: string };
    }
  }

  it.each([
    ["status", "JSON-escaped with \\/,JSON \\u escapes,URL-encoded,base64url", []],
    ["stream", "JSON-escaped with \\/,base64", ["--stream"]],
  ] as const)("never prints the key an upstream echoes (%s, %s)", async (scenario, form, extra) => {
    plan = { scenario, form };
    const { stdout, stderr } = await chat(...extra);
    expect(stderr).toMatch(/g4f-ts: /);
    expectNoPieceOf(apiKey, { stdout, stderr });
  });
});
