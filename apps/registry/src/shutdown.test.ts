import { spawn } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { type AmigoChatFake, startAmigoChatFake, startTestServer } from "@g4f-ts/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  cliPath,
  type ServeProcess,
  startServeProcess,
  writeConfigFile,
} from "../test-support/serve-process.js";

const closers: (() => Promise<unknown>)[] = [];
const children: ServeProcess["child"][] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** An OpenAI-compatible upstream whose `GET /models` never answers; `listAsked` resolves on the first ask. */
async function hangingModelList(): Promise<{ url: string; listAsked: Promise<void> }> {
  let markAsked: () => void = () => undefined;
  const listAsked = new Promise<void>((resolve) => {
    markAsked = resolve;
  });
  const server = await startTestServer((incoming) => {
    if (incoming.path.endsWith("/models")) markAsked();
  });
  closers.push(() => server.close());
  return { url: server.url, listAsked };
}

function hangingConfig(url: string): Promise<string> {
  return writeConfigFile({
    discovery: { installed: false },
    providers: [
      {
        id: "hanging",
        use: "@g4f-ts/provider-openai-compatible",
        options: { baseUrl: `${url}/v1`, timeouts: { totalMs: 120_000 } },
      },
    ],
  });
}

async function amigoUpstream(chunks: number): Promise<AmigoChatFake> {
  const fake = await startAmigoChatFake({
    chunkDelayMs: 20,
    reply: () => Array.from({ length: chunks }, (_, index) => `${index} `),
  });
  closers.push(() => fake.close());
  return fake;
}

function amigoConfig(fake: AmigoChatFake): Promise<string> {
  return writeConfigFile({
    discovery: { installed: false },
    providers: [
      {
        id: "amigo",
        use: "@g4f-ts/provider-amigochat",
        options: { baseUrl: fake.url, retry: { maxAttempts: 1 } },
      },
    ],
  });
}

async function serve(args: string[]): Promise<ServeProcess> {
  const serving = await startServeProcess(["--port", "0", "--log-level", "silent", ...args]);
  children.push(serving.child);
  return serving;
}

/** Resolves once the child's stderr has matched `pattern`. */
function stderrMatch(serving: ServeProcess, pattern: RegExp): Promise<void> {
  if (pattern.test(serving.stderr())) return Promise.resolve();
  return new Promise((resolve) => {
    const onData = () => {
      if (!pattern.test(serving.stderr())) return;
      serving.child.stderr?.off("data", onData);
      resolve();
    };
    serving.child.stderr?.on("data", onData);
  });
}

/** A streamed chat read to its end: `firstData` once bytes arrived, `text` all of them. */
function openStream(url: string): { firstData: Promise<void>; text: Promise<string> } {
  let markFirst: () => void = () => undefined;
  const firstData = new Promise<void>((resolve) => {
    markFirst = resolve;
  });
  const text = new Promise<string>((resolve, reject) => {
    const outgoing = request(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    outgoing.once("error", reject);
    outgoing.once("response", (incoming) => {
      let body = "";
      incoming.setEncoding("utf8");
      incoming.on("data", (part: string) => {
        body += part;
        markFirst();
      });
      incoming.once("error", () => resolve(`${body}<cut>`));
      incoming.once("close", () => resolve(incoming.complete ? body : `${body}<cut>`));
    });
    outgoing.end(
      JSON.stringify({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
      }),
    );
  });
  return { firstData, text };
}

/** The last `data:` payload of an SSE text. */
function dataEvents(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice("data: ".length));
}

function lastEvent(text: string): string {
  return dataEvents(text).at(-1) ?? "";
}

describe("g4f-ts serve's shutdown", () => {
  it("exits within its grace period on SIGTERM while an upstream's model list never answers", async () => {
    const upstream = await hangingModelList();
    const serving = await serve([
      "--config",
      await hangingConfig(upstream.url),
      "--grace-ms",
      "2000",
    ]);
    const stoppedAt = performance.now();
    serving.child.kill("SIGTERM");
    expect(await serving.exited).toBe(0);
    const elapsed = performance.now() - stoppedAt;
    console.log(`SIGTERM with a model list hanging: exited after ${Math.round(elapsed)} ms`);
    expect(elapsed).toBeLessThan(2_000 + 3_000);
  }, 30_000);

  it("stops a start still waiting for a model list on SIGTERM, and exits 0", async () => {
    const upstream = await hangingModelList();
    const child = spawn(
      process.execPath,
      [cliPath, "serve", "--port", "0", "--config", await hangingConfig(upstream.url)],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (part: Buffer) => {
      stderr += part.toString();
    });
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    await upstream.listAsked;
    const stoppedAt = performance.now();
    child.kill("SIGTERM");
    const [code, signal] = await exited;
    const elapsed = performance.now() - stoppedAt;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // The start alone waits up to 5 s for model lists.
    expect(elapsed).toBeLessThan(3_000);
    expect(stderr).toContain("SIGTERM: shutting down");
    expect(stderr).not.toContain("serving the OpenAI API");
  }, 30_000);

  it("ends every open stream at once with its error event on a second SIGTERM, and exits 143", async () => {
    // Each answer would take 10 s; the grace period is 30 s.
    const fake = await amigoUpstream(500);
    const serving = await serve(["--config", await amigoConfig(fake), "--grace-ms", "30000"]);
    const streams = Array.from({ length: 10 }, () => openStream(serving.url));
    await Promise.all(streams.map((stream) => stream.firstData));
    serving.child.kill("SIGTERM");
    await stderrMatch(serving, /SIGTERM: shutting down/);
    const forcedAt = performance.now();
    serving.child.kill("SIGTERM");
    const texts = await Promise.all(streams.map((stream) => stream.text));
    for (const text of texts) {
      // The error event, then `[DONE]`, as g4f's API ends every stream.
      const events = dataEvents(text);
      expect(text).not.toContain("<cut>");
      expect(events.at(-1)).toBe("[DONE]");
      expect(JSON.parse(events.at(-2) ?? "").error.code).toBe("server_shutting_down");
    }
    expect(await serving.exited).toBe(143);
    expect(performance.now() - forcedAt).toBeLessThan(5_000);
  }, 30_000);

  it("shuts down gracefully on SIGHUP: an open stream finishes, and the process exits 0", async () => {
    const fake = await amigoUpstream(40);
    const serving = await serve(["--config", await amigoConfig(fake), "--grace-ms", "10000"]);
    const stream = openStream(serving.url);
    await stream.firstData;
    serving.child.kill("SIGHUP");
    const text = await stream.text;
    expect(lastEvent(text)).toBe("[DONE]");
    expect(text).not.toContain('"error"');
    expect(text).toContain("39 ");
    expect(await serving.exited).toBe(0);
    expect(serving.stderr()).toContain("SIGHUP: shutting down");
  }, 30_000);
});
