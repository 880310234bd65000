import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type AmigoChatFake, startAmigoChatFake } from "@g4f-ts/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatBody, readJson } from "./__fixtures__/http-bodies.js";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

let fake: AmigoChatFake;
let environment: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!existsSync(cli))
    throw new Error(`build the registry first (npx tsc -p tsconfig.build.json): ${cli} is missing`);
  fake = await startAmigoChatFake({ chunkDelayMs: 5 });
  const { G4F_API_KEY: _key, ...rest } = process.env;
  environment = { ...rest, AMIGOCHAT_BASE_URL: fake.url };
});
afterAll(async () => {
  await fake.close();
});

function g4f(...args: string[]) {
  return run(process.execPath, [cli, ...args], { env: environment, timeout: 15_000 });
}

async function failing(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await g4f(...args);
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
  throw new Error("expected the command to fail");
}

/** Start `serve` and resolve with its URL once it listens. */
function serve(
  args: string[],
  env: NodeJS.ProcessEnv = environment,
): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [cli, "serve", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  child.stdout?.resume();
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 10_000);
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString();
      const match = /serving the OpenAI API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: match[1], exited });
      }
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}

describe("the g4f-ts CLI", () => {
  it("serves the OpenAI API with the providers' environment, and exits 0 on SIGTERM", async () => {
    const { child, url, exited } = await serve([
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--log-level",
      "warn",
    ]);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(response.headers.get("x-g4f-provider")).toBe("amigochat");
    expect((await readJson<ChatBody>(response)).choices[0]?.message.content).toBe(
      "Hello from gpt-4o-mini!",
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("lets a stream in flight finish after SIGTERM before exiting", async () => {
    // Chunks 300 ms apart: the signal lands while the answer is still coming, however
    // busy the machine (a fast fake could deliver all of it in the first read).
    const slow = await startAmigoChatFake({ chunkDelayMs: 300 });
    const { child, url, exited } = await serve(["--port", "0", "--log-level", "silent"], {
      ...environment,
      AMIGOCHAT_BASE_URL: slow.url,
    });
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
      }),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    expect(text).not.toContain("[DONE]");
    child.kill("SIGTERM");
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain("data: [DONE]");
    expect(text).not.toContain('"error"');
    expect(await exited).toBe(0);
    await slow.close();
  });

  it("answers without any configured upstream in --demo mode", async () => {
    const { AMIGOCHAT_BASE_URL: _baseUrl, ...withoutUpstream } = environment;
    const child = spawn(
      process.execPath,
      [cli, "serve", "--demo", "--port", "0", "--log-level", "silent"],
      {
        env: withoutUpstream,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr?.on("data", (data: Buffer) => {
        stderr += data.toString();
        const match = /serving the OpenAI API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (match?.[1] !== undefined && stderr.includes("demo:")) resolve(match[1]);
      });
      child.once("exit", (code) =>
        reject(new Error(`serve --demo exited with ${code}: ${stderr}`)),
      );
    });
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect((await readJson<ChatBody>(response)).choices[0]?.message.content).toContain(
      "demo upstream",
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("lists the models", async () => {
    const { stdout } = await g4f("models");
    expect(stdout).toMatch(/^gpt-4o-mini\s+chat\s+amigochat$/m);
    expect(stdout).toMatch(/^flux-dev\s+image\s+amigochat$/m);
    const { stdout: json } = await g4f("models", "--json");
    expect(JSON.parse(json).data.length).toBeGreaterThan(30);
  });

  it("lists the providers", async () => {
    const { stdout } = await g4f("providers");
    expect(stdout).toContain("amigochat  AmigoChat  enabled, working");
  });

  it("answers one chat, whole or streamed", async () => {
    const { stdout } = await g4f("chat", "Say hello", "--model", "gpt-4o-mini");
    expect(stdout).toBe("Hello from gpt-4o-mini!\n");
    const { stdout: streamed } = await g4f("chat", "Say hello", "--model", "gpt-4o", "--stream");
    expect(streamed).toBe("Hello from gpt-4o-2024-11-20!\n");
    expect(fake.requests.at(-1)?.json).toMatchObject({
      messages: [{ role: "user", content: "Say hello" }],
    });
  });

  it("generates an image and prints its URLs", async () => {
    const { stdout } = await g4f("image", "a red fox", "--model", "flux-dev");
    expect(stdout.trim().split("\n")).toEqual([
      "https://images.example/flux%2Fdev/1.png",
      "https://images.example/flux%2Fdev/2.png",
    ]);
  });

  it("shows help for each command", async () => {
    const commands = ["serve", "models", "providers", "chat", "image"];
    const helps = await Promise.all(commands.map((command) => g4f(command, "--help")));
    for (const [index, command] of commands.entries())
      expect(helps[index]?.stdout).toContain(`Usage: g4f-ts ${command}`);
    expect((await g4f("--help")).stdout).toContain("g4f-ts chat");
  });

  it("fails with a clear message for an unknown model, a bad flag and a bad config", async () => {
    const directory = await mkdtemp(join(tmpdir(), "g4f-cli-"));
    const config = join(directory, "g4f.json");
    await writeFile(config, JSON.stringify({ routing: { strategy: "fastest" } }));
    const [unknown, flag, invalid] = await Promise.all([
      failing("chat", "Hi", "--model", "gpt-9"),
      failing("models", "--bogus"),
      failing("serve", "--config", config, "--port", "0"),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('The model "gpt-9" does not exist');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--bogus");
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("routing.strategy");
  });

  it("refuses a port above 65535 as a usage error", async () => {
    const failure = await failing("serve", "--port", "99999");
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain("--port must be between 0 and 65535");
  });

  it("refuses to start when a config entry's package is missing, and starts when the entry is optional", async () => {
    const directory = await mkdtemp(join(tmpdir(), "g4f-cli-"));
    const strict = join(directory, "strict.json");
    await writeFile(
      strict,
      JSON.stringify({ providers: [{ id: "ghost", use: "g4f-ts-provider-ghost" }] }),
    );
    const failure = await failing("serve", "--config", strict, "--port", "0");
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain(
      "providers.0: (ghost, g4f-ts-provider-ghost) the package is not installed",
    );

    const relaxed = join(directory, "optional.json");
    await writeFile(
      relaxed,
      JSON.stringify({
        providers: [{ id: "ghost", use: "g4f-ts-provider-ghost", optional: true }],
      }),
    );
    const { stdout, stderr } = await g4f("providers", "--config", relaxed);
    expect(stdout).toContain("amigochat  AmigoChat  enabled");
    expect(stderr).toContain("warning: skipped g4f-ts-provider-ghost: providers.0 (ghost)");
  });

  it("ends quietly with exit 0 when the reader of its output has gone, as in `g4f-ts models | head -1`", async () => {
    const child = spawn(process.execPath, [cli, "models"], {
      env: environment,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // The reading end closes before the first line is written: every write then fails with EPIPE.
    child.stdout?.destroy();
    let stderr = "";
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    const code = await new Promise<number | null>((resolve) =>
      child.once("exit", (exitCode) => resolve(exitCode)),
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  });

  it("says how to get a provider when none is enabled: --demo, AMIGOCHAT_BASE_URL and a config file", async () => {
    const { AMIGOCHAT_BASE_URL: _url, ...withoutUpstream } = environment;
    const child = spawn(process.execPath, [cli, "serve", "--port", "0", "--log-level", "silent"], {
      env: withoutUpstream,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    let stderr = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on("data", (data: Buffer) => {
        stderr += data.toString();
        if (stderr.includes("--demo")) resolve();
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain("no provider is enabled");
    expect(stderr).toContain("AMIGOCHAT_BASE_URL=http://… g4f-ts serve");
    expect(stderr).toContain("g4f-ts serve --config g4f.config.json");
    expect(stderr).toMatch(/g4f-ts serve --demo .*@g4f-ts\/provider-amigochat @g4f-ts\/testkit/);
  });
});
