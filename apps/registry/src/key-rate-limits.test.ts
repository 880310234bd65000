import { Usage } from "@g4f-ts/provider-core";
import { type OpenAICompatibleFake, startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "./__fixtures__/http-bodies.js";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";
import type { RegistryConfigInput } from "./config.js";
import { resetDuration } from "./key-rate-limits.js";
import { type RunningServer, startServer } from "./server.js";

/** Per-key limits in one process, without Redis, on an injected clock. */
let server: RunningServer | undefined;
let upstream: OpenAICompatibleFake | undefined;
afterEach(async () => {
  await server?.close(0);
  server = undefined;
  await upstream?.close();
  upstream = undefined;
});

const env = { KEY_A: "key-a", KEY_B: "key-b" };

async function serve(
  apiKeys: NonNullable<RegistryConfigInput["server"]>["apiKeys"],
  usage?: Usage,
) {
  let now = 1_000_000_000;
  server = await startServer({
    discover: false,
    port: 0,
    env,
    now: () => now,
    config: { server: { apiKeys } },
    providers: [
      scriptedProvider({
        id: "alpha",
        script: [["Hello", ...(usage === undefined ? [] : [usage])]],
      }),
    ],
  });
  return { server, advance: (ms: number) => (now += ms) };
}

function chat(target: RunningServer, key: string, stream = false): Promise<Response> {
  return fetch(`${target.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model: "test-model",
      stream,
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
}

describe("per-key limits in one process", () => {
  it("refuses a key's requests over its rpm with OpenAI's 429 and headers, until the minute has passed", async () => {
    const { server, advance } = await serve([{ env: "KEY_A", rpm: 2 }, { env: "KEY_B" }]);
    const first = await chat(server, "key-a");
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(first.headers.get("x-ratelimit-reset-requests")).toBe("1m0s");
    advance(1_500);
    const second = await chat(server, "key-a");
    expect(second.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(second.headers.get("x-ratelimit-reset-requests")).toBe("58.5s");

    const refused = await chat(server, "key-a");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("59");
    expect(refused.headers.get("retry-after-ms")).toBe("58500");
    expect(refused.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const body = (await refused.json()) as ErrorBody;
    expect(body.error).toMatchObject({
      type: "requests",
      code: "rate_limit_exceeded",
      param: null,
    });
    expect(body.error.message).toMatch(/Limit 2, Used 2, Requested 1\. Please try again in 58\.5s/);

    // Another key has no limit, and no headers.
    const other = await chat(server, "key-b");
    expect(other.status).toBe(200);
    expect(other.headers.get("x-ratelimit-limit-requests")).toBeNull();

    advance(58_499);
    expect((await chat(server, "key-a")).status).toBe(429);
    advance(1);
    expect((await chat(server, "key-a")).status).toBe(200);
  });

  it("refuses a key over its tpm once its answers used the tokens, until they leave the window", async () => {
    const { server, advance } = await serve(
      [{ env: "KEY_A", tpm: 100 }],
      new Usage({ promptTokens: 40, completionTokens: 80 }),
    );
    const first = await chat(server, "key-a");
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("100");
    expect(first.headers.get("x-ratelimit-remaining-tokens")).toBe("100");
    const refused = await chat(server, "key-a");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-ratelimit-remaining-tokens")).toBe("0");
    expect(((await refused.json()) as ErrorBody).error.type).toBe("tokens");
    advance(60_000);
    expect((await chat(server, "key-a")).status).toBe(200);
  });

  it("counts a streamed answer's tokens too", async () => {
    const { server } = await serve(
      [{ env: "KEY_A", tpm: 100 }],
      new Usage({ promptTokens: 40, completionTokens: 80 }),
    );
    const streamed = await chat(server, "key-a", true);
    expect(streamed.status).toBe(200);
    await streamed.text();
    await vi.waitFor(() => expect(server.openRequests()).toBe(0));
    expect((await chat(server, "key-a")).status).toBe(429);
  });

  it("refuses a key's request over maxConcurrent while its others are open, and frees the slot when one ends", async () => {
    upstream = await startOpenAICompatibleFake({ models: ["held"] });
    upstream.setFaults((request) =>
      request.bodyText.includes("hold") ? { kind: "never-end", afterChunks: 1 } : undefined,
    );
    server = await startServer({
      discover: false,
      port: 0,
      env,
      config: {
        server: { apiKeys: [{ env: "KEY_A", maxConcurrent: 1 }] },
        providers: [
          {
            id: "held",
            use: "@g4f-ts/provider-openai-compatible",
            options: { baseUrl: `${upstream.url}/v1`, models: ["held"], retry: { maxAttempts: 1 } },
          },
        ],
      },
    });
    const send = (content: string, stream: boolean) =>
      fetch(`${server?.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer key-a" },
        body: JSON.stringify({ model: "held", stream, messages: [{ role: "user", content }] }),
      });
    const open = await send("hold", true);
    const reader = open.body?.getReader();
    await reader?.read();
    const refused = await send("short", false);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as ErrorBody).error.message).toMatch(/maxConcurrent/);
    await reader?.cancel();
    await vi.waitFor(() => expect(server?.openRequests()).toBe(0));
    expect((await send("short", false)).status).toBe(200);
  });
});

describe("resetDuration", () => {
  it("writes durations as OpenAI's headers do", () => {
    expect(resetDuration(0)).toBe("0ms");
    expect(resetDuration(120)).toBe("120ms");
    expect(resetDuration(1_000)).toBe("1s");
    expect(resetDuration(58_500)).toBe("58.5s");
    expect(resetDuration(360_000)).toBe("6m0s");
    expect(resetDuration(3_600_000)).toBe("1h0m0s");
  });
});
