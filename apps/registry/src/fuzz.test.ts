import { isUtf8 } from "node:buffer";
import { parseSseData } from "@g4f-ts/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RawOutcome,
  type RawRequest,
  type RequestEnding,
  rawExchange,
  requestBytes,
} from "../test-support/raw-exchange.js";
import { type AmigoPair, postJson, startAmigoPair } from "./__fixtures__/amigo-pair.js";
import type { ChatOrErrorBody } from "./__fixtures__/http-bodies.js";

/*
 * Property-based fuzzing of every endpoint with raw bytes: random JSON, wrong types,
 * legal but odd values, huge strings, deep nesting, invalid UTF-8, wrong content
 * types, truncated bodies, odd methods, paths and headers. Whatever comes in, the
 * answer is a 4xx in OpenAI's error shape (or, for a body that happens to be valid,
 * a whole answer), never a 5xx, and the server answers a valid request from its
 * primary provider afterwards: garbage never puts a provider into cooldown.
 * FUZZ_SEED and FUZZ_RUNS override the seed and the runs per property. The default
 * run is a short fuzz; fuzz.long.test.ts (`pnpm test:long`) runs the full count.
 */

const seed = Number(process.env.FUZZ_SEED ?? 20_261_124);
const numRuns = Number(process.env.FUZZ_RUNS ?? 20);
const bodyLimitBytes = 64 * 1024;
const reply = "Hello from gpt-4o-mini!";

let pair: AmigoPair;
/** Per property: the cases run, and how many got each status ("none": no answer, a reset client). */
const casesRun: Record<string, { cases: number; statuses: Record<string, number> }> = {};

beforeAll(async () => {
  pair = await startAmigoPair({
    config: {
      server: { bodyLimitBytes },
      routing: { timeouts: { firstChunkMs: 2_000, idleMs: 2_000 } },
    },
  });
});

afterAll(async () => {
  await pair?.close();
  const total = Object.values(casesRun).reduce((sum, run) => sum + run.cases, 0);
  const lines = Object.entries(casesRun).map(
    ([name, run]) =>
      `  ${name}: ${run.cases} (${Object.entries(run.statuses)
        .map(([status, count]) => `${status}: ${count}`)
        .join(", ")})`,
  );
  console.log(
    `fuzz: ${total} cases, seed ${seed}, ${numRuns} runs a property\n${lines.join("\n")}`,
  );
});

type SuccessKind = "chat" | "images" | "json" | "text" | "none";

interface FuzzCase {
  request: RawRequest;
  ending?: RequestEnding;
  /** What a 2xx answer must be; "none": a 2xx is wrong. */
  success: SuccessKind;
  /** The one status this case must get, when it is known. */
  status?: number;
  /** The error code this case must get, when it is known. */
  code?: string;
}

const chatPaths = ["/v1/chat/completions", "/chat/completions", "/api/amigo-b/chat/completions"];
const imagePaths = [
  "/v1/images/generations",
  "/images/generations",
  "/api/amigo-b/images/generations",
];
const getPaths = [
  "/v1/models",
  "/models",
  "/v1/models/gpt-4o-mini",
  "/v1/models/meta-llama%2FMeta-Llama-3.1-405B-Instruct-Turbo",
  "/v1/providers",
  "/providers",
  "/api/amigo-a/models",
  "/healthz",
  "/health",
  "/metrics",
];

function successKindOf(method: string, path: string): SuccessKind {
  const bare = path.split("?")[0] ?? path;
  if (method === "POST" && chatPaths.includes(bare)) return "chat";
  if (method === "POST" && imagePaths.includes(bare)) return "images";
  if (method === "GET" && bare === "/metrics") return "text";
  if (method === "GET" && getPaths.includes(bare)) return "json";
  return "none";
}

function jsonPost(path: string, body: unknown, headers: Record<string, string> = {}): RawRequest {
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/json", ...headers },
    body: Buffer.from(typeof body === "string" ? body : (JSON.stringify(body) ?? "null")),
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

function describeOutcome(fuzzCase: FuzzCase, outcome: RawOutcome): string {
  const body = fuzzCase.request.body?.subarray(0, 300).toString("utf8") ?? "";
  const answer = outcome.reply
    ? `${outcome.reply.status} ${outcome.reply.body.subarray(0, 300).toString("utf8")}`
    : `no answer (${outcome.socketError ?? "closed"})`;
  return `${fuzzCase.request.method} ${fuzzCase.request.path.slice(0, 120)} ${body} -> ${answer}`;
}

function checkSuccess(kind: SuccessKind, outcome: RawOutcome, context: string): void {
  const reply = outcome.reply;
  if (reply === undefined) throw new Error(`no answer: ${context}`);
  const type = reply.headers["content-type"] ?? "";
  if (kind === "chat" && type.startsWith("text/event-stream")) {
    const payloads = parseSseData(reply.body.toString("utf8"));
    expect(payloads.at(-1), context).toBe("[DONE]");
    for (const payload of payloads.slice(0, -1))
      expect((parseJson(Buffer.from(payload)) as { object?: string })?.object, context).toBe(
        "chat.completion.chunk",
      );
    return;
  }
  if (kind === "text") {
    expect(type, context).toMatch(/^text\/plain/);
    return;
  }
  expect(type, context).toMatch(/^application\/json/);
  const body = parseJson(reply.body) as Record<string, unknown> | undefined;
  expect(body, context).toBeTypeOf("object");
  if (kind === "chat") {
    expect(body?.object, context).toBe("chat.completion");
    const choices = body?.choices as { message?: { content?: unknown } }[] | undefined;
    expect(choices?.[0]?.message?.content, context).toBeTypeOf("string");
  }
  if (kind === "images") {
    const data = body?.data as { url?: unknown }[] | undefined;
    expect(data?.length, context).toBeGreaterThan(0);
    for (const image of data ?? []) expect(image.url, context).toBeTypeOf("string");
  }
  if (kind === "none") throw new Error(`a success where none is possible: ${context}`);
}

/** OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}` as JSON. */
function checkOpenAIError(outcome: RawOutcome, context: string): void {
  const reply = outcome.reply as NonNullable<RawOutcome["reply"]>;
  expect(reply.headers["content-type"], context).toMatch(/^application\/json/);
  const body = parseJson(reply.body) as { error?: Record<string, unknown> } | undefined;
  expect(body?.error, context).toBeTypeOf("object");
  expect(body?.error?.message, context).toBeTypeOf("string");
  expect(String(body?.error?.message).length, context).toBeGreaterThan(0);
  expect(body?.error?.type, context).toBeTypeOf("string");
  expect(body?.error, context).toHaveProperty("code");
  expect(body?.error, context).toHaveProperty("param");
}

/** Send one case and check its answer; resolves with its status ("none" when no answer could come). */
async function runCase(fuzzCase: FuzzCase): Promise<string> {
  const ending = fuzzCase.ending ?? "wait";
  const outcome = await rawExchange(pair.server.port, requestBytes(fuzzCase.request), ending);
  if (ending === "destroy") return "none";
  const context = describeOutcome(fuzzCase, outcome);
  expect(outcome.reply, context).toBeDefined();
  const status = outcome.reply?.status ?? 0;
  expect(status, context).toBeLessThan(500);
  if (fuzzCase.status !== undefined) expect(status, context).toBe(fuzzCase.status);
  if (fuzzCase.request.method === "HEAD") return String(status);
  if (status >= 400) {
    checkOpenAIError(outcome, context);
    if (fuzzCase.code !== undefined)
      expect(
        (parseJson(outcome.reply?.body ?? Buffer.alloc(0)) as ChatOrErrorBody).error.code,
        context,
      ).toBe(fuzzCase.code);
  } else checkSuccess(fuzzCase.success, outcome, context);
  return String(status);
}

/** A valid request still gets a whole answer, from the primary: no fuzz case cooled it down. */
async function expectStillServing(): Promise<void> {
  const response = await postJson(pair.server, "/v1/chat/completions", {
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "still there?" }],
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as ChatOrErrorBody;
  expect(body.provider).toBe("amigo-a");
  expect(body.choices[0]?.message.content).toBe(reply);
  for (let waited = 0; pair.server.openRequests() > 1 && waited < 2_000; waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
  expect(pair.server.openRequests()).toBeLessThanOrEqual(1);
}

async function fuzz<T>(name: string, arbitrary: fc.Arbitrary<T>, toCase: (value: T) => FuzzCase) {
  const run = { cases: 0, statuses: {} as Record<string, number> };
  casesRun[name] = run;
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      run.cases++;
      const status = await runCase(toCase(value));
      run.statuses[status] = (run.statuses[status] ?? 0) + 1;
    }),
    { seed, numRuns },
  );
  await expectStillServing();
}

/** `target` with `value` set at a dotted `path` (made where missing). */
function withValue(
  target: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(target);
  const keys = path.split(".");
  let current: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    const next = current[key];
    if (typeof next !== "object" || next === null) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[keys.at(-1) as string] = value;
  return copy;
}

const validChat = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] };
const validImage = { model: "flux-dev", prompt: "a red fox" };

const blanks = fc.constantFrom("", " ", "   ", "\n\t ", "\u00a0", "\u3000");
const wildValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string(),
  blanks,
  fc.constantFrom(null, 0, -1, 1.5, 3, 1e308, -1e308, true, false, [], {}, [null], {
    type: "text",
  }),
);

const chatFields = [
  "model",
  "messages",
  "messages.0",
  "messages.0.role",
  "messages.0.content",
  "stream",
  "stream_options",
  "stream_options.include_usage",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "frequency_penalty",
  "presence_penalty",
  "n",
  "provider",
  "proxy",
  "base_url",
  "user",
];
const imageFields = [
  "model",
  "prompt",
  "n",
  "response_format",
  "size",
  "provider",
  "baseURL",
  "user",
];

const modelNames = fc.oneof(
  fc.constantFrom(
    "gpt-4o-mini",
    "gpt-4o",
    "llama-3.1-405b",
    "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
    "flux-dev",
    "dall-e-3",
    "flux-realism",
    "amigo-b",
    "amigo-b:gpt-4o-mini",
    "amigo-a/flux-dev",
    "amigo-c:gpt-4o",
  ),
  fc.string({ maxLength: 40 }),
);

const messageContent = fc.oneof(
  fc.string({ maxLength: 200 }),
  blanks,
  fc.constant(null),
  fc.array(
    fc.oneof(
      fc.record({
        type: fc.constant("text"),
        text: fc.oneof(fc.string({ maxLength: 50 }), blanks),
      }),
      fc.record({
        type: fc.constant("image_url"),
        image_url: fc.record({ url: fc.constantFrom("https://example.com/a.png", "data:,x") }),
      }),
    ),
    { maxLength: 3 },
  ),
);

const invalidUtf8 = fc.constantFrom(
  [0xff],
  [0xfe, 0xff],
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0x80],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
);

describe("fuzzing every endpoint", () => {
  it("answers random JSON bodies with a 4xx in OpenAI's shape", async () => {
    await fuzz(
      "random JSON",
      fc.tuple(fc.constantFrom(...chatPaths, ...imagePaths), fc.jsonValue({ maxDepth: 5 })),
      ([path, value]) => ({ request: jsonPost(path, value), success: successKindOf("POST", path) }),
    );
  });

  it("answers chat bodies with a field of the wrong type with a 4xx, or a whole answer when still valid", async () => {
    await fuzz(
      "chat fields of wrong types",
      fc.tuple(fc.constantFrom(...chatPaths), fc.constantFrom(...chatFields), wildValue),
      ([path, field, value]) => ({
        request: jsonPost(path, withValue(validChat, field, value)),
        success: "chat",
      }),
    );
  });

  it("answers legal but odd chat requests (every model kind, blank or multi-part content, pins) without a 5xx", async () => {
    await fuzz(
      "odd but legal chat requests",
      fc.record({
        path: fc.constantFrom(...chatPaths),
        model: modelNames,
        content: messageContent,
        role: fc.constantFrom("system", "developer", "user", "assistant"),
        stream: fc.boolean(),
        provider: fc.option(fc.constantFrom("amigo-a", "amigo-b", "amigo-z", "a"), {
          nil: undefined,
        }),
        maxTokens: fc.option(fc.integer({ min: 1, max: 2 ** 40 }), { nil: undefined }),
      }),
      ({ path, model, content, role, stream, provider, maxTokens }) => ({
        request: jsonPost(path, {
          model,
          messages: [{ role, content }],
          stream,
          provider,
          max_tokens: maxTokens,
        }),
        success: "chat",
      }),
    );
  });

  it("answers image bodies with a field of the wrong type or a blank prompt with a 4xx", async () => {
    await fuzz(
      "image fields of wrong types",
      fc.tuple(
        fc.constantFrom(...imagePaths),
        fc.constantFrom(...imageFields),
        fc.oneof(wildValue, modelNames),
      ),
      ([path, field, value]) => ({
        request: jsonPost(path, withValue(validImage, field, value)),
        success: "images",
      }),
    );
  });

  it("answers huge strings with a 413 or 400 (or a whole answer when under the limits)", async () => {
    await fuzz(
      "huge strings",
      fc.record({
        path: fc.constantFrom(...chatPaths, ...imagePaths),
        field: fc.constantFrom(
          "model",
          "messages.0.content",
          "prompt",
          "provider",
          "user",
          "messages.0.role",
        ),
        seed: fc.string({ minLength: 1, maxLength: 4, unit: "grapheme" }),
        length: fc.integer({ min: 1_000, max: 150_000 }),
      }),
      ({ path, field, seed: piece, length }) => {
        const huge = piece.repeat(Math.ceil(length / piece.length));
        const base = imagePaths.includes(path) ? validImage : validChat;
        return {
          request: jsonPost(path, withValue(base, field, huge)),
          success: successKindOf("POST", path),
        };
      },
    );
  });

  it("answers deeply nested JSON with a 4xx (or a whole answer where the nesting is ignored)", async () => {
    await fuzz(
      "deep nesting",
      fc.record({
        path: fc.constantFrom(...chatPaths, ...imagePaths),
        depth: fc.integer({ min: 1, max: 30_000 }),
        shape: fc.constantFrom("array", "object"),
        place: fc.constantFrom(
          "root",
          "messages.0.content",
          "stream_options",
          "metadata",
          "prompt",
        ),
      }),
      ({ path, depth, shape, place }) => {
        const open = shape === "array" ? "[" : '{"a":';
        const close = shape === "array" ? "]" : "}";
        const nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
        const base = JSON.stringify(imagePaths.includes(path) ? validImage : validChat);
        const body =
          place === "root"
            ? nested
            : JSON.stringify(withValue(JSON.parse(base), place, "__NESTED__")).replace(
                '"__NESTED__"',
                nested,
              );
        return { request: jsonPost(path, body), success: successKindOf("POST", path) };
      },
    );
  });

  it("answers a body that is not valid UTF-8 with 400 invalid_json", async () => {
    await fuzz(
      "invalid UTF-8",
      fc.record({
        path: fc.constantFrom(...chatPaths, ...imagePaths),
        // Pieces that together happen to spell a valid character ([0xc3] + [0x80]) are left out.
        bytes: fc
          .array(invalidUtf8, { minLength: 1, maxLength: 3 })
          .filter((pieces) => !isUtf8(Buffer.from(pieces.flat()))),
        position: fc.nat(),
      }),
      ({ path, bytes, position }) => {
        // Invalid bytes inside a string value of an otherwise valid body.
        const marker = imagePaths.includes(path) ? '"a red fox' : '"Hi';
        const text = JSON.stringify(imagePaths.includes(path) ? validImage : validChat);
        const at = text.indexOf(marker) + 1 + (position % (marker.length - 1));
        const body = Buffer.concat([
          Buffer.from(text.slice(0, at)),
          Buffer.from(bytes.flat()),
          Buffer.from(text.slice(at)),
        ]);
        return {
          request: { method: "POST", path, headers: { "content-type": "application/json" }, body },
          success: "none",
          status: 400,
          code: "invalid_json",
        };
      },
    );
  });

  it("answers random bytes with a 4xx", async () => {
    await fuzz(
      "random bytes",
      fc.tuple(fc.constantFrom(...chatPaths, ...imagePaths), fc.uint8Array({ maxLength: 512 })),
      ([path, bytes]) => ({
        request: {
          method: "POST",
          path,
          headers: { "content-type": "application/json" },
          body: Buffer.from(bytes),
        },
        success: "none",
      }),
    );
  });

  it("answers a body whose content type is not JSON with 415, and a JSON-typed body that is not JSON with 400", async () => {
    await fuzz(
      "wrong content types",
      fc.record({
        path: fc.constantFrom(...chatPaths),
        contentType: fc.option(
          fc.constantFrom(
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "application/json; charset=utf-16le",
            "application/octet-stream",
            "image/png",
            "*/*",
          ),
          { nil: undefined },
        ),
        body: fc.constantFrom("json", "form", "xml", "utf-16", "multipart"),
      }),
      ({ path, contentType, body }) => {
        const json = JSON.stringify(validChat);
        const bytes = {
          json: Buffer.from(json),
          form: Buffer.from("model=gpt-4o-mini&messages=Hi"),
          xml: Buffer.from("<request><model>gpt-4o-mini</model></request>"),
          "utf-16": Buffer.from(json, "utf16le"),
          multipart: Buffer.from(
            `--x\r\ncontent-disposition: form-data; name="model"\r\n\r\ngpt-4o-mini\r\n--x--\r\n`,
          ),
        }[body];
        return {
          request: {
            method: "POST",
            path,
            headers: (contentType === undefined ? {} : { "content-type": contentType }) as Record<
              string,
              string
            >,
            body: bytes,
          },
          success: "chat",
          status: contentType !== "application/json" ? 415 : body === "json" ? 200 : 400,
        };
      },
    );
  });

  it("answers a body cut short of its content-length with 400 when the client stops sending, and survives one that resets", async () => {
    await fuzz(
      "truncated bodies",
      fc.record({
        path: fc.constantFrom(...chatPaths, ...imagePaths),
        cut: fc.nat(),
        missing: fc.integer({ min: 1, max: 10_000 }),
        ending: fc.constantFrom<RequestEnding>("half-close", "destroy"),
      }),
      ({ path, cut, missing, ending }) => {
        const body = Buffer.from(
          JSON.stringify(imagePaths.includes(path) ? validImage : validChat),
        );
        const sent = body.subarray(0, cut % body.byteLength);
        return {
          request: {
            method: "POST",
            path,
            headers: { "content-type": "application/json" },
            body: sent,
            declaredLength: sent.byteLength + missing,
          },
          ending,
          success: "none",
          status: 400,
        };
      },
    );
  });

  it("answers odd methods, paths, queries and headers on every route with a 4xx or the route's answer", async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        "v1",
        "api",
        "models",
        "chat",
        "completions",
        "images",
        "generations",
        "amigo-a",
        "..",
        "%",
        "%ZZ",
        "%00",
        "%2F",
        "",
      ),
      fc.webSegment(),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    await fuzz(
      "methods, paths and headers",
      fc.record({
        method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
        path: fc.oneof(
          fc.constantFrom(...getPaths, ...chatPaths, ...imagePaths),
          fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join("/")}`),
          fc.constantFrom(
            `/v1/models/${"x".repeat(20_000)}`,
            "/v1/mo\u0001dels",
            "/v1/models dels",
            "*",
            "//",
          ),
        ),
        query: fc.option(fc.webQueryParameters(), { nil: undefined }),
        headers: fc.dictionary(
          fc.constantFrom(
            "x-request-id",
            "authorization",
            "g4f-api-key",
            "accept",
            "x-custom",
            "content-type",
          ),
          fc.oneof(
            fc.string({ maxLength: 40 }),
            fc.constantFrom("Bearer", "\u0001", "a\u00ffb", "x".repeat(300)),
          ),
          { maxKeys: 3 },
        ),
      }),
      ({ method, path, query, headers }) => {
        const target = query === undefined ? path : `${path}?${query}`;
        const hasBody = method === "POST" || method === "PUT" || method === "PATCH";
        return {
          request: {
            method,
            path: target,
            headers: Object.fromEntries(
              Object.entries(headers).map(([name, value]) => [
                name,
                Buffer.from(value, "utf8").toString("latin1"),
              ]),
            ),
            body: hasBody
              ? Buffer.from(JSON.stringify(imagePaths.includes(path) ? validImage : validChat))
              : undefined,
          },
          success: successKindOf(method, target),
        };
      },
    );
  });
});

describe("what the fuzzing found, pinned", () => {
  async function providersHealth(): Promise<Record<string, string>> {
    const response = await fetch(`${pair.server.url}/v1/providers`);
    const body = (await response.json()) as { data: { id: string; health: { status: string } }[] };
    return Object.fromEntries(body.data.map((provider) => [provider.id, provider.health.status]));
  }

  it("refuses a blank image prompt with 400 naming the field, and no provider cools down", async () => {
    for (let round = 0; round < 5; round++) {
      const response = await postJson(pair.server, "/v1/images/generations", {
        model: "flux-dev",
        prompt: " \n",
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as ChatOrErrorBody).error.param).toBe("prompt");
    }
    expect(await providersHealth()).toEqual({ "amigo-a": "ok", "amigo-b": "ok" });
  });

  it("answers 400 invalid_request when every provider refuses the request itself, and counts it against none", async () => {
    for (let round = 0; round < 5; round++) {
      // An image model asked through chat needs a text prompt in the last message (an image
      // part would be refused before any attempt: no image model reads one).
      const response = await postJson(pair.server, "/v1/chat/completions", {
        model: "dall-e-3",
        messages: [{ role: "user", content: [] }],
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as ChatOrErrorBody;
      expect(body.error.code).toBe("invalid_request");
      expect(body.error.attempts?.map((attempt) => attempt.reason)).toEqual(["refused", "refused"]);
    }
    expect(await providersHealth()).toEqual({ "amigo-a": "ok", "amigo-b": "ok" });
  });

  it("refuses a body that is not valid UTF-8 instead of passing U+FFFD upstream", async () => {
    const body = Buffer.concat([
      Buffer.from('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"H'),
      Buffer.from([0xff]),
      Buffer.from('i"}]}'),
    ]);
    const outcome = await rawExchange(
      pair.server.port,
      requestBytes({
        method: "POST",
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json" },
        body,
      }),
    );
    expect(outcome.reply?.status).toBe(400);
    expect(JSON.parse(outcome.reply?.body.toString() ?? "")).toMatchObject({
      error: {
        code: "invalid_json",
        message: "The request body is not valid JSON: the body is not valid UTF-8",
      },
    });
  });

  it("answers requests node cannot parse in OpenAI's error shape, not a bare status line", async () => {
    const cut = await rawExchange(
      pair.server.port,
      requestBytes({
        method: "POST",
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json" },
        body: Buffer.from('{"model"'),
        declaredLength: 100,
      }),
      "half-close",
    );
    const control = await rawExchange(
      pair.server.port,
      Buffer.from("GET /v1/mo\u0001dels HTTP/1.1\r\nhost: x\r\n\r\n"),
    );
    const huge = await rawExchange(
      pair.server.port,
      requestBytes({ method: "GET", path: `/v1/models/${"x".repeat(20_000)}` }),
    );
    const answers = [cut, control, huge].map((outcome) => ({
      status: outcome.reply?.status,
      code: (JSON.parse(outcome.reply?.body.toString() ?? "{}") as ChatOrErrorBody).error?.code,
    }));
    expect(answers).toEqual([
      { status: 400, code: "incomplete_body" },
      { status: 400, code: "malformed_request" },
      { status: 431, code: "headers_too_large" },
    ]);
  });
});
