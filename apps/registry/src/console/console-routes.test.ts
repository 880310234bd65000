import { ImageResponse, ResponseStatusError } from "@g4f-ts/provider-core";
import { afterEach, describe, expect, it } from "vitest";
import { type ScriptedProvider, scriptedProvider } from "../__fixtures__/scripted-provider.js";
import {
  type ScriptedServerOptions,
  startScriptedServer,
} from "../__fixtures__/scripted-server.js";
import type { RegistryConfigInput } from "../config.js";
import type { RunningServer } from "../server.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

async function serve(
  providers: ScriptedProvider[],
  config: RegistryConfigInput = {},
  options: ScriptedServerOptions = {},
) {
  const server = await startScriptedServer(providers, config, options);
  servers.push(server);
  return server;
}

function failure(provider: string, status: number, message: string) {
  return { fail: new ResponseStatusError({ provider, status, retryable: true, message }) };
}

const keyed = {
  config: { server: { apiKeys: [{ env: "CONSOLE_KEY" }] } },
  options: { env: { CONSOLE_KEY: "sk-console" } },
};

describe("the console's files", () => {
  it("serves the page at /, /console and /console/ without a key, with a strict content policy", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], keyed.config, keyed.options);
    for (const path of ["/", "/console", "/console/"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      const html = await response.text();
      expect(html).toContain("<title>g4f-ts console</title>");
      // Nothing from another origin.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it("serves its script, style and the libraries from the registry's own dependencies", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    const expected: Record<string, string> = {
      "console.js": "text/javascript; charset=utf-8",
      "console.css": "text/css; charset=utf-8",
      "vendor/uplot.js": "text/javascript; charset=utf-8",
      "vendor/uplot.css": "text/css; charset=utf-8",
      "vendor/eventsource-parser.js": "text/javascript; charset=utf-8",
    };
    for (const [name, type] of Object.entries(expected)) {
      const response = await fetch(`${server.url}/console/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get("content-type"), name).toBe(type);
      const text = await response.text();
      expect(text.length, name).toBeGreaterThan(100);
      expect(text, name).not.toContain("sourceMappingURL");
    }
    expect(await (await fetch(`${server.url}/console/vendor/uplot.js`)).text()).toContain(
      "export { uPlot as default }",
    );
  });

  it("answers a file it does not have, or a path that climbs out, with 404 in OpenAI's shape", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })]);
    for (const path of [
      "/console/nothing.js",
      "/console/../package.json",
      "/console/%2e%2e/package.json",
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(404);
      const body = (await response.json()) as { error: { type: string } };
      expect(body.error.type, path).toBe("invalid_request_error");
    }
  });

  it("serves nothing of the console when server.console is false", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], { server: { console: false } });
    for (const path of ["/", "/console", "/console/console.js", "/v1/console/stats"])
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(200);
  });
});

describe("GET /v1/console/stats", () => {
  it("needs the API key when keys are configured", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], keyed.config, keyed.options);
    expect((await fetch(`${server.url}/v1/console/stats`)).status).toBe(401);
    const wrong = await fetch(`${server.url}/v1/console/stats`, {
      headers: { authorization: "Bearer sk-wrong" },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${server.url}/v1/console/stats`, {
      headers: { authorization: "Bearer sk-console" },
    });
    expect(right.status).toBe(200);
  });

  it("describes every provider with its health and its traffic over the window", async () => {
    const alpha = scriptedProvider({
      id: "alpha",
      script: [[failure("alpha", 503, "alpha answered 503")]],
    });
    const beta = scriptedProvider({ id: "beta", script: [["Hi"]] });
    const server = await serve([alpha, beta], { cooldown: { failureThreshold: 5 } });
    const chat = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "test-model", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(chat.status).toBe(200);
    const response = await fetch(`${server.url}/v1/console/stats`);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const stats = (await response.json()) as {
      object: string;
      bucket_ms: number;
      window_ms: number;
      data: {
        id: string;
        health: { status: string; failures: number };
        models: string[];
        traffic: {
          in_flight: number;
          recent_failures: Record<string, number>;
          series: { attempts: number[]; failures: number[]; first_chunk_ms: (number | null)[] };
        };
      }[];
    };
    expect(stats).toMatchObject({ object: "console.stats", bucket_ms: 10_000, window_ms: 600_000 });
    const [first, second] = stats.data;
    expect(first).toMatchObject({
      id: "alpha",
      health: { status: "failing", failures: 1 },
      models: ["test-model"],
      traffic: { in_flight: 0, recent_failures: { status: 1 } },
    });
    expect(first?.traffic.series.attempts).toHaveLength(60);
    expect(first?.traffic.series.attempts.at(-1)).toBe(1);
    expect(first?.traffic.series.failures.at(-1)).toBe(1);
    expect(first?.traffic.series.first_chunk_ms.at(-1)).toBeNull();
    expect(second).toMatchObject({ id: "beta", health: { status: "ok" } });
    expect(second?.traffic.series.attempts.at(-1)).toBe(1);
    expect(second?.traffic.series.first_chunk_ms.at(-1)).toBeTypeOf("number");
  });
});

describe("the x-g4f-attempts header", () => {
  const question = { model: "test-model", messages: [{ role: "user", content: "Hi" }] };

  async function chat(server: RunningServer, body: Record<string, unknown>) {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...question, ...body }),
    });
    await response.arrayBuffer();
    return response;
  }

  it("lists the attempts that failed before the answer, streamed or not, and is absent when the first answered", async () => {
    const alpha = scriptedProvider({
      id: "alpha",
      // The first two calls fail, the third answers.
      script: (_call, index) =>
        index < 2 ? [failure("alpha", 503, "alpha: Überlastet\r\nX-Injected: 1")] : ["Hi"],
    });
    const beta = scriptedProvider({ id: "beta", script: [["Hello"]] });
    const server = await serve([alpha, beta], { cooldown: { failureThreshold: 5 } });

    for (const stream of [true, false]) {
      const response = await chat(server, { stream });
      expect(response.headers.get("x-g4f-provider")).toBe("beta");
      const header = response.headers.get("x-g4f-attempts") ?? "";
      // ASCII only, and no line breaks: the message's are escaped inside the JSON.
      expect(header).toMatch(/^[\x20-\x7e]+$/);
      expect(JSON.parse(header)).toEqual([
        {
          provider: "alpha",
          model: "test-model",
          status: 503,
          reason: "status",
          message: "alpha: Überlastet\r\nX-Injected: 1",
        },
      ]);
      expect(response.headers.get("x-injected")).toBeNull();
    }
    const clean = await chat(server, {});
    expect(clean.headers.get("x-g4f-provider")).toBe("alpha");
    expect(clean.headers.has("x-g4f-attempts")).toBe(false);
  });

  it("is exposed to the browser origins CORS allows", async () => {
    const server = await serve([scriptedProvider({ id: "alpha" })], {
      server: { corsOrigins: ["https://app.example"] },
    });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://app.example" },
      body: JSON.stringify(question),
    });
    await response.arrayBuffer();
    expect(response.headers.get("access-control-expose-headers")).toContain("x-g4f-attempts");
  });

  it("names a provider skipped in cooldown, and sits on image answers too", async () => {
    const alpha = scriptedProvider({
      id: "alpha",
      chatModels: [],
      imageModels: ["paint"],
      script: [[failure("alpha", 500, "alpha broke")]],
    });
    const beta = scriptedProvider({
      id: "beta",
      chatModels: [],
      imageModels: ["paint"],
      script: [[new ImageResponse(["https://images.example/1.png"], "a cat")]],
    });
    const server = await serve([alpha, beta], {
      cooldown: { failureThreshold: 1, minDistinctClients: 1 },
    });
    const attemptsOf = async () => {
      const response = await fetch(`${server.url}/v1/images/generations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "paint", prompt: "a cat" }),
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      return JSON.parse(response.headers.get("x-g4f-attempts") ?? "null") as { reason: string }[];
    };
    expect((await attemptsOf()).map((attempt) => attempt.reason)).toEqual(["status"]);
    expect((await attemptsOf()).map((attempt) => attempt.reason)).toEqual(["cooldown"]);
  });
});
