import {
  AbortError,
  type Chunk,
  ContextLengthExceededError,
  closeDispatchers,
  createCompletion,
  FinishReason,
  ImageResponse,
  InvalidResponseError,
  MissingAuthError,
  ModelNotSupportedError,
  PaymentRequiredError,
  ProviderError,
  RateLimitError,
  ResponseMetadata,
  ResponseStatusError,
  StreamInterruptedError,
  TimeoutError,
  Usage,
} from "@g4f-ts/provider-core";
import {
  type OpenAICompatibleFake,
  type RecordedRequest,
  sendJson,
  sendSse,
  sendText,
  startOpenAICompatibleFake,
  startTestServer,
  type TestServer,
  type TestServerHandler,
} from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { OpenAICompatibleOptions } from "./openai-compatible-options.js";
import { OpenAICompatible } from "./openai-compatible-provider.js";

const apiKey = "sk-test-0123456789abcdef";
const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };
const hello = [{ role: "user" as const, content: "Say hello" }];

let fake: OpenAICompatibleFake;
const scripted: TestServer[] = [];

beforeEach(async () => {
  fake = await startOpenAICompatibleFake({
    apiKey,
    models: ["fake-chat", "fake-chat-large", "fake-image"],
  });
});

afterEach(async () => {
  await fake.close();
  await Promise.all(scripted.splice(0).map((server) => server.close()));
});

afterAll(async () => {
  await closeDispatchers();
});

/** An instance on the fake, with fast retries. */
function local(options: Partial<OpenAICompatibleOptions> = {}): OpenAICompatible {
  return new OpenAICompatible({
    id: "local",
    baseUrl: `${fake.url}/v1`,
    apiKey,
    retry: fastRetry,
    ...options,
  });
}

/** A server with scripted answers, and an instance on it. */
async function scriptedUpstream(
  handler: TestServerHandler,
  options: Partial<OpenAICompatibleOptions> = {},
): Promise<{ server: TestServer; provider: OpenAICompatible }> {
  const server = await startTestServer(handler);
  scripted.push(server);
  const provider = new OpenAICompatible({
    id: "scripted",
    baseUrl: `${server.url}/v1`,
    apiKey,
    retry: { ...fastRetry, maxAttempts: 1 },
    ...options,
  });
  return { server, provider };
}

async function collect(chunks: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const collected: Chunk[] = [];
  for await (const chunk of chunks) collected.push(chunk);
  return collected;
}

/** Run a call to its end and return what it threw, with the chunks it yielded before. */
async function failure(chunks: AsyncIterable<Chunk>): Promise<{ error: unknown; before: Chunk[] }> {
  const before: Chunk[] = [];
  try {
    for await (const chunk of chunks) before.push(chunk);
  } catch (error) {
    return { error, before };
  }
  throw new Error(`expected the call to fail, it yielded ${JSON.stringify(before)}`);
}

async function errorOf(chunks: AsyncIterable<Chunk>): Promise<ProviderError> {
  const { error } = await failure(chunks);
  expect(ProviderError.isInstance(error)).toBe(true);
  return error as ProviderError;
}

function requestsTo(
  path: string,
  server: { requests: RecordedRequest[] } = fake,
): RecordedRequest[] {
  return server.requests.filter((request) => request.path === `/v1${path}`);
}

function lastChatRequest(): RecordedRequest {
  const request = requestsTo("/chat/completions").at(-1);
  if (request === undefined) throw new Error("the fake received no chat request");
  return request;
}

function seen(error: unknown): string {
  const record = error as Error & Record<string, unknown>;
  return JSON.stringify({ ...record, message: record.message, stack: record.stack });
}

describe("the chat request", () => {
  it("is a POST to {baseUrl}/chat/completions with the key as a bearer token and the extra headers", async () => {
    await collect(
      local({ models: ["fake-chat"], headers: { "X-Title": "g4f-ts" } }).createAsyncGenerator(
        "fake-chat",
        hello,
      ),
    );
    const request = lastChatRequest();
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v1/chat/completions");
    expect(request.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request.headers["x-title"]).toBe("g4f-ts");
    expect(request.headers["content-type"]).toBe("application/json");
  });

  it("carries OpenAI's field names, and asks a stream for its usage", async () => {
    await collect(
      local({ models: ["fake-chat"] }).createAsyncGenerator(
        "fake-chat",
        [{ role: "system", content: "Be brief." }, ...hello],
        {
          stream: true,
          temperature: 0.2,
          topP: 0.9,
          maxTokens: 64,
          frequencyPenalty: 0.1,
          presencePenalty: 0.3,
        },
      ),
    );
    expect(lastChatRequest().json).toMatchInlineSnapshot(`
      {
        "frequency_penalty": 0.1,
        "max_tokens": 64,
        "messages": [
          {
            "content": "Be brief.",
            "role": "system",
          },
          {
            "content": "Say hello",
            "role": "user",
          },
        ],
        "model": "fake-chat",
        "presence_penalty": 0.3,
        "stream": true,
        "stream_options": {
          "include_usage": true,
        },
        "temperature": 0.2,
        "top_p": 0.9,
      }
    `);
  });

  it("does not stream by default, and sends only what was set", async () => {
    await collect(local({ models: ["fake-chat"] }).createAsyncGenerator("fake-chat", hello));
    expect(lastChatRequest().json).toEqual({ model: "fake-chat", messages: hello, stream: false });
  });

  it("adds the instance's and the call's extraBody", async () => {
    const provider = local({ models: ["fake-chat"], extraBody: { options: { num_ctx: 8192 } } });
    await collect(provider.createAsyncGenerator("fake-chat", hello, { extraBody: { seed: 7 } }));
    expect(lastChatRequest().json).toMatchObject({ options: { num_ctx: 8192 }, seed: 7 });
  });

  it("sends no authorization header without a key", async () => {
    const open = await startOpenAICompatibleFake();
    try {
      const provider = new OpenAICompatible({ baseUrl: `${open.url}/v1`, models: ["fake-model"] });
      await collect(provider.createAsyncGenerator("fake-model", hello));
      expect(open.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it("resolves an alias to its target before sending", async () => {
    const provider = local({
      models: ["fake-chat", "fake-chat-large"],
      modelAliases: { large: "fake-chat-large" },
    });
    expect(provider.getModel("large")).toBe("fake-chat-large");
    await collect(provider.createAsyncGenerator("large", hello));
    expect(lastChatRequest().json).toMatchObject({ model: "fake-chat-large" });
  });

  it("sends the default model for an empty name", async () => {
    const provider = local({ models: ["fake-chat", "fake-chat-large"] });
    expect(provider.defaultModel).toBe("fake-chat");
    await collect(provider.createAsyncGenerator("", hello));
    expect(lastChatRequest().json).toMatchObject({ model: "fake-chat" });
  });
});

describe("the answer", () => {
  it("streams the deltas, then the finish reason and the usage", async () => {
    const chunks = await collect(
      local({ models: ["fake-chat"] }).createAsyncGenerator("fake-chat", hello, { stream: true }),
    );
    expect(chunks.filter((chunk) => typeof chunk === "string")).toEqual([
      "Hell",
      "o fr",
      "om f",
      "ake-",
      "chat",
      "!",
    ]);
    const tail = chunks.filter((chunk) => typeof chunk !== "string");
    expect(tail).toEqual([
      new ResponseMetadata({ id: "chatcmpl-fake", model: "fake-chat" }),
      new FinishReason("stop"),
      new Usage({ promptTokens: 3, completionTokens: 6, totalTokens: 9 }),
    ]);
  });

  it("reads a JSON answer with its finish reason and usage", async () => {
    const completion = await createCompletion(local({ models: ["fake-chat"] }), "fake-chat", hello);
    expect(completion.text).toBe("Hello from fake-chat!");
    expect(completion.finishReason).toBe("stop");
    expect(completion.usage).toMatchObject({ promptTokens: 3, completionTokens: 6 });
  });

  it("passes the upstream's own finish reason on", async () => {
    const { provider } = await scriptedUpstream((_request, response) =>
      sendSse(response, [
        { choices: [{ delta: { content: "Cut" }, finish_reason: null }] },
        { choices: [{ delta: {}, finish_reason: "length" }] },
      ]),
    );
    const completion = await createCompletion(provider, "any", hello, { stream: true });
    expect(completion).toMatchObject({ text: "Cut", finishReason: "length" });
  });
});

describe("the model list", () => {
  it("is fetched from GET {baseUrl}/models with the key, and kept", async () => {
    const provider = local();
    expect(await provider.refreshModels()).toEqual(["fake-chat", "fake-chat-large", "fake-image"]);
    const [request] = requestsTo("/models");
    expect(request?.method).toBe("GET");
    expect(request?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(provider.getModels()).toEqual(["fake-chat", "fake-chat-large", "fake-image"]);
    expect(provider.defaultModel).toBe("fake-chat");
    await collect(provider.createAsyncGenerator("fake-chat", hello));
    await collect(provider.createAsyncGenerator("fake-chat-large", hello));
    expect(requestsTo("/models")).toHaveLength(1);
    expect(requestsTo("/chat/completions")).toHaveLength(2);
  });

  it("reports each fetched list that replaces the one known to its onModelsChange listeners, until they stop", async () => {
    const provider = local();
    let reported = 0;
    const stop = provider.onModelsChange(() => reported++);
    await provider.refreshModels();
    expect(reported).toBe(1);
    expect(provider.getModels()).toEqual(["fake-chat", "fake-chat-large", "fake-image"]);
    stop();
    await provider.refreshModels();
    expect(reported).toBe(1);
  });

  it("lets any name through before a list is known", () => {
    const provider = local({ modelAliases: { small: "fake-chat" } });
    expect(provider.getModels()).toEqual([]);
    expect(provider.getModel("whatever:7b")).toBe("whatever:7b");
    expect(provider.getModel("small")).toBe("fake-chat");
    expect(() => provider.getModel("")).toThrow(/no default model yet/);
    expect(fake.requests).toHaveLength(0);
  });

  it("lists the configured default and image models before a list is known", () => {
    const provider = local({ defaultModel: "fake-chat", imageModels: ["fake-image"] });
    expect(provider.getModels()).toEqual(["fake-chat", "fake-image"]);
    expect(provider.getModel("")).toBe("fake-chat");
  });

  it("rejects an unknown name with close names once the list is fetched", async () => {
    const provider = local();
    await provider.refreshModels();
    let error: unknown;
    try {
      provider.getModel("fake-chta");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ModelNotSupportedError);
    expect((error as ModelNotSupportedError).suggestions).toContain("fake-chat");
    expect((error as Error).message).toContain("local");
  });

  it("is fetched by the first call when nobody refreshed it, before the chat request", async () => {
    const provider = local();
    const error = await errorOf(provider.createAsyncGenerator("not-served", hello));
    expect(error).toBeInstanceOf(ModelNotSupportedError);
    expect(fake.requests.map((request) => request.path)).toEqual(["/v1/models"]);
    await collect(provider.createAsyncGenerator("fake-chat", hello));
    expect(fake.requests.map((request) => request.path)).toEqual([
      "/v1/models",
      "/v1/chat/completions",
    ]);
  });

  it("is fetched again once it is older than modelsTtlMs", async () => {
    const provider = local({ modelsTtlMs: 250 });
    await collect(provider.createAsyncGenerator("fake-chat", hello));
    await collect(provider.createAsyncGenerator("fake-chat", hello));
    expect(requestsTo("/models")).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await collect(provider.createAsyncGenerator("fake-chat", hello));
    expect(requestsTo("/models")).toHaveLength(2);
  });

  it("keeps the previous list when a fetch fails, and tries again on the next call", async () => {
    const lists = [["first-model"], undefined, ["second-model"]];
    let listIndex = 0;
    const { server, provider } = await scriptedUpstream(
      (request, response) => {
        if (request.path !== "/v1/models")
          return sendJson(response, 200, { choices: [{ message: { content: "ok" } }] });
        const list = lists[listIndex++];
        if (list === undefined)
          return sendJson(response, 503, { error: { message: "models are loading" } });
        return sendJson(response, 200, { data: list.map((id) => ({ id })) });
      },
      { modelsTtlMs: 0 },
    );
    expect(await provider.refreshModels()).toEqual(["first-model"]);
    const error = await provider.refreshModels().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResponseStatusError);
    expect(provider.getModels()).toEqual(["first-model"]);
    expect(provider.getModel("first-model")).toBe("first-model");
    // The next call fetches again, and routes by what it gets.
    await collect(provider.createAsyncGenerator("second-model", hello));
    expect(provider.getModels()).toEqual(["second-model"]);
    expect(requestsTo("/models", server)).toHaveLength(3);
  });

  it("does not fail a call when the list cannot be fetched", async () => {
    const { server, provider } = await scriptedUpstream((request, response) =>
      request.path === "/v1/models"
        ? sendText(response, 404, "404 page not found")
        : sendJson(response, 200, { choices: [{ message: { content: "fine" } }] }),
    );
    expect((await createCompletion(provider, "any-model", hello)).text).toBe("fine");
    expect((await createCompletion(provider, "any-model", hello)).text).toBe("fine");
    expect(server.requests.map((request) => request.path)).toEqual([
      "/v1/models",
      "/v1/chat/completions",
      "/v1/models",
      "/v1/chat/completions",
    ]);
  });

  it("shares one request among concurrent fetches", async () => {
    const provider = local();
    const lists = await Promise.all([
      provider.refreshModels(),
      provider.refreshModels(),
      collect(provider.createAsyncGenerator("fake-chat", hello)),
    ]);
    expect(lists[0]).toEqual(lists[1]);
    expect(requestsTo("/models")).toHaveLength(1);
  });

  it("stops waiting for the list when the caller's signal aborts", async () => {
    fake.setFaults((request) =>
      request.path === "/v1/models" ? { kind: "delay-headers", ms: 1000 } : undefined,
    );
    const provider = local();
    const controller = new AbortController();
    const started = Date.now();
    const pending = provider.refreshModels(controller.signal).catch((error: unknown) => error);
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("aborts the list request, closing its socket, once every caller has stopped waiting", async () => {
    let markRequested: () => void = () => undefined;
    const requested = new Promise<void>((resolve) => {
      markRequested = resolve;
    });
    // An upstream whose model list never answers.
    const { server, provider } = await scriptedUpstream(() => markRequested(), {
      timeouts: { totalMs: 120_000 },
    });
    const first = new AbortController();
    const second = new AbortController();
    const waits = [first, second].map((controller) =>
      provider.refreshModels(controller.signal).catch((error: unknown) => error),
    );
    await requested;
    first.abort();
    expect(await waits[0]).toBeInstanceOf(AbortError);
    const closed = server.nextConnectionClose(2_000);
    second.abort();
    expect(await waits[1]).toBeInstanceOf(AbortError);
    await closed;
    expect(server.openConnections()).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it("goes on fetching the list for a caller still waiting when another gives up", async () => {
    let answer: () => void = () => undefined;
    const requested = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const { provider } = await scriptedUpstream(async (_request, response) => {
      answer();
      await new Promise<void>((resolve) => {
        answer = resolve;
      });
      sendJson(response, 200, { object: "list", data: [{ id: "still-here", object: "model" }] });
    });
    const leaving = new AbortController();
    const left = provider.refreshModels(leaving.signal).catch((error: unknown) => error);
    const staying = provider.refreshModels(new AbortController().signal);
    await requested;
    leaving.abort();
    expect(await left).toBeInstanceOf(AbortError);
    answer();
    expect(await staying).toEqual(["still-here"]);
  });

  it("treats an empty list as no list: names still pass through", async () => {
    const { provider } = await scriptedUpstream((_request, response) =>
      sendJson(response, 200, { object: "list", data: [] }),
    );
    expect(await provider.refreshModels()).toEqual([]);
    expect(provider.getModel("anything")).toBe("anything");
  });

  it("reports a list of the wrong shape as InvalidResponseError with the field", async () => {
    const { provider } = await scriptedUpstream((_request, response) =>
      sendJson(response, 200, { data: [{ name: "no-id" }] }),
    );
    const error = await provider.refreshModels().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain("data.0.id");
  });

  it("is never fetched with a fixed list", async () => {
    const provider = local({ models: ["fake-chat"] });
    expect(await provider.refreshModels()).toEqual(["fake-chat"]);
    await collect(provider.createAsyncGenerator("fake-chat", hello));
    expect(requestsTo("/models")).toHaveLength(0);
    expect(() => provider.getModel("fake-chat-large")).toThrow(ModelNotSupportedError);
  });

  it("keeps a configured default model served whatever the fetched list says", async () => {
    const provider = local({ defaultModel: "unlisted-model", imageModels: ["fake-image"] });
    await provider.refreshModels();
    expect(provider.chatModels).toEqual(["unlisted-model", "fake-chat", "fake-chat-large"]);
    expect(provider.imageModels).toEqual(["fake-image"]);
    expect(provider.getModel("")).toBe("unlisted-model");
  });
});

describe("images", () => {
  it("posts the last message as the prompt to /images/generations and yields one ImageResponse", async () => {
    const provider = local({ models: ["fake-chat"], imageModels: ["fake-image"] });
    const chunks = await collect(
      provider.createAsyncGenerator("fake-image", [{ role: "user", content: "a red fox" }], {
        n: 1,
        size: "256x256",
      }),
    );
    expect(chunks).toEqual([
      new ImageResponse(["https://images.example/fake-image/1.png"], "a red fox"),
    ]);
    const request = requestsTo("/images/generations")[0];
    expect(request?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request?.json).toEqual({
      model: "fake-image",
      prompt: "a red fox",
      n: 1,
      size: "256x256",
    });
  });

  it("sends the call's extra image fields (quality, style, response_format) as they are", async () => {
    const provider = local({ models: ["fake-chat"], imageModels: ["fake-image"] });
    await collect(
      provider.createAsyncGenerator("fake-image", [{ role: "user", content: "a red fox" }], {
        n: 2,
        extraBody: { size: "512x512", quality: "hd", style: "natural", response_format: "url" },
      }),
    );
    expect(requestsTo("/images/generations")[0]?.json).toEqual({
      model: "fake-image",
      prompt: "a red fox",
      n: 2,
      size: "512x512",
      quality: "hd",
      style: "natural",
      response_format: "url",
    });
  });

  it("turns base64 images into data URLs and keeps the revised prompt", async () => {
    const { provider } = await scriptedUpstream(
      (_request, response) =>
        sendJson(response, 200, {
          created: 1,
          data: [{ b64_json: "iVBORw0KGgo=", revised_prompt: "a red fox, digital art" }],
        }),
      { models: [], imageModels: ["gpt-image-1"] },
    );
    const completion = await createCompletion(provider, "gpt-image-1", [
      { role: "user", content: "a red fox" },
    ]);
    expect(completion.images).toEqual(["data:image/png;base64,iVBORw0KGgo="]);
    expect(completion.chunks[0]).toMatchObject({
      options: { revisedPrompt: "a red fox, digital art" },
    });
  });

  it("fails with InvalidResponseError when the answer holds no image", async () => {
    const { provider } = await scriptedUpstream(
      (_request, response) => sendJson(response, 200, { created: 1, data: [] }),
      { models: [], imageModels: ["img"] },
    );
    const error = await errorOf(provider.createAsyncGenerator("img", hello));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toContain("without an image");
  });

  it("turns an error object in a 200 image answer into a typed error", async () => {
    const { provider } = await scriptedUpstream(
      (_request, response) =>
        sendJson(response, 200, { error: { message: "Your billing hard limit was reached" } }),
      { models: [], imageModels: ["img"] },
    );
    expect(await errorOf(provider.createAsyncGenerator("img", hello))).toBeInstanceOf(
      PaymentRequiredError,
    );
  });

  it("refuses an image call without a prompt, sending nothing", async () => {
    const provider = local({ models: [], imageModels: ["fake-image"] });
    const error = await errorOf(
      provider.createAsyncGenerator("fake-image", [{ role: "user", content: " " }]),
    );
    expect(error).toMatchObject({ name: "OpenAICompatibleOptionsError", field: "messages" });
    expect(fake.requests).toHaveLength(0);
  });
});

describe("errors", () => {
  it("are MissingAuthError for a wrong key, without the key", async () => {
    const wrongKey = "sk-wrong-key-9876543210";
    const error = await errorOf(
      local({ models: ["fake-chat"], apiKey: wrongKey }).createAsyncGenerator("fake-chat", hello),
    );
    expect(error).toBeInstanceOf(MissingAuthError);
    expect(error).toMatchObject({ status: 401, retryable: false, provider: "local" });
    expect(error.message).toContain("Incorrect API key provided");
    expect(seen(error)).not.toContain(wrongKey);
    expect(requestsTo("/chat/completions")).toHaveLength(1);
  });

  it("are PaymentRequiredError for a 402, and for a quota message under a 429", async () => {
    const provider = local({ models: ["fake-chat"] });
    fake.setFaults([
      { kind: "status", status: 402 },
      {
        kind: "status",
        status: 429,
        body: {
          error: { message: "You exceeded your current quota", code: "insufficient_quota" },
        },
      },
    ]);
    const payment = await errorOf(provider.createAsyncGenerator("fake-chat", hello));
    expect(payment).toBeInstanceOf(PaymentRequiredError);
    expect(payment).toMatchObject({ status: 402, retryable: false });
    const quota = await errorOf(provider.createAsyncGenerator("fake-chat", hello));
    expect(quota).toBeInstanceOf(PaymentRequiredError);
    expect(requestsTo("/chat/completions")).toHaveLength(2);
  });

  it("are RateLimitError for a 429, with its retry-after", async () => {
    fake.setFaults(() => ({ kind: "status", status: 429, retryAfter: "7" }));
    const error = await errorOf(
      local({ models: ["fake-chat"], retry: { maxAttempts: 1 } }).createAsyncGenerator(
        "fake-chat",
        hello,
      ),
    );
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfter: 7, retryable: true });
  });

  it.each([
    [
      "OpenAI's",
      {
        error: {
          message:
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
          type: "invalid_request_error",
          code: "context_length_exceeded",
        },
      },
    ],
    [
      "llama.cpp's",
      {
        error: {
          code: 400,
          message: "the request exceeds the available context size, try increasing it",
          type: "exceed_context_size_error",
        },
      },
    ],
    [
      "vLLM's",
      {
        object: "error",
        message:
          "The decoder prompt (length 9000) is longer than the maximum model length of 8192.",
        type: "BadRequestError",
        code: 400,
      },
    ],
    [
      "Groq's",
      {
        error: {
          message: "Please reduce the length of the messages or completion.",
          type: "invalid_request_error",
          code: "context_length_exceeded",
        },
      },
    ],
  ])("are ContextLengthExceededError in %s words", async (_server, body) => {
    fake.setFaults(() => ({ kind: "status", status: 400, body }));
    const error = await errorOf(
      local({ models: ["fake-chat"] }).createAsyncGenerator("fake-chat", hello),
    );
    expect(error).toBeInstanceOf(ContextLengthExceededError);
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(requestsTo("/chat/completions")).toHaveLength(1);
  });

  it("are ContextLengthExceededError for a context error inside a 200 stream", async () => {
    fake.setFaults(() => ({
      kind: "error-in-stream",
      error: {
        code: 400,
        message: "the request exceeds the available context size, try increasing it",
      },
    }));
    const error = await errorOf(
      local({ models: ["fake-chat"] }).createAsyncGenerator("fake-chat", hello, { stream: true }),
    );
    expect(error).toBeInstanceOf(ContextLengthExceededError);
  });

  it("are a plain, non-retryable 400 for another bad request", async () => {
    fake.setFaults(() => ({
      kind: "status",
      status: 400,
      body: { error: { message: "temperature must be at most 2" } },
    }));
    const error = await errorOf(
      local({ models: ["fake-chat"] }).createAsyncGenerator("fake-chat", hello),
    );
    expect(error.name).toBe("ResponseStatusError");
    expect(error).toMatchObject({ status: 400, retryable: false });
  });

  it("are ModelNotSupportedError for a 404 about the model", async () => {
    fake.setFaults(() => ({
      kind: "status",
      status: 404,
      body: { error: { message: 'model "llama9" not found, try pulling it first' } },
    }));
    const error = await errorOf(local().createAsyncGenerator("llama9", hello));
    expect(error).toBeInstanceOf(ModelNotSupportedError);
    expect(error).toMatchObject({ model: "llama9", status: 404, retryable: false });
    expect(error.message).toContain("try pulling it first");
  });

  it("hint at the base URL for a 404 that is not about the model", async () => {
    const provider = new OpenAICompatible({
      baseUrl: fake.url,
      apiKey,
      models: ["fake-chat"],
    });
    const error = await errorOf(provider.createAsyncGenerator("fake-chat", hello));
    expect(error.name).toBe("ResponseStatusError");
    expect(error.status).toBe(404);
    expect(error.message).toContain(`no such endpoint: ${fake.url}/chat/completions`);
    expect(error.message).toContain("must include the API version");
  });

  it("never hold the key, even when the upstream echoes it", async () => {
    const provider = local({ models: ["fake-chat"], retry: { maxAttempts: 1 } });
    const echoes = [
      { kind: "status" as const, status: 401, body: { error: { message: `bad key ${apiKey}` } } },
      { kind: "status" as const, status: 500, body: `upstream saw Bearer ${apiKey}` },
      { kind: "error-in-stream" as const, error: { message: `stream saw ${apiKey}` } },
    ];
    for (const fault of echoes) {
      fake.setFaults(() => fault);
      const error = await errorOf(
        provider.createAsyncGenerator("fake-chat", hello, { stream: true }),
      );
      expect(seen(error)).not.toContain(apiKey);
      expect(error.message).toContain("[redacted]");
    }
  });

  it("never hold the value of a credential header of its own, even in a status error", async () => {
    const headerSecret = "goog-secret-value-24680";
    const { provider } = await scriptedUpstream(
      (request, response) =>
        sendJson(response, 403, {
          error: { message: `key ${String(request.headers["x-goog-api-key"])} is not valid` },
        }),
      { models: ["m"], apiKey: undefined, headers: { "x-goog-api-key": headerSecret } },
    );
    const error = await errorOf(provider.createAsyncGenerator("m", hello));
    expect(error).toBeInstanceOf(MissingAuthError);
    expect(error.message).toContain("key [redacted] is not valid");
    expect(seen(error)).not.toContain(headerSecret);
  });

  it("never hold the key when a 200 JSON answer echoes it in an error object", async () => {
    const { provider } = await scriptedUpstream(
      (_request, response) => sendJson(response, 200, { error: { message: `key ${apiKey}` } }),
      { models: ["m"] },
    );
    const error = await errorOf(provider.createAsyncGenerator("m", hello));
    expect(seen(error)).not.toContain(apiKey);
  });

  it("name the model list's own failure when it is fetched on request", async () => {
    const provider = local({ apiKey: "sk-not-the-right-one" });
    const error = await provider.refreshModels().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingAuthError);
    expect(seen(error)).not.toContain("sk-not-the-right-one");
  });
});

describe("retries", () => {
  it("retry a 503 and then answer", async () => {
    fake.setFaults([{ kind: "status", status: 503 }]);
    const completion = await createCompletion(
      local({ models: ["fake-chat"] }),
      "fake-chat",
      hello,
      { stream: true },
    );
    expect(completion.text).toBe("Hello from fake-chat!");
    expect(requestsTo("/chat/completions")).toHaveLength(2);
  });

  it("give up after retry.maxAttempts with the last error", async () => {
    fake.setFaults(() => ({ kind: "status", status: 503 }));
    const error = await errorOf(
      local({
        models: ["fake-chat"],
        retry: { ...fastRetry, maxAttempts: 2 },
      }).createAsyncGenerator("fake-chat", hello),
    );
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(requestsTo("/chat/completions")).toHaveLength(2);
  });

  it("retry an image call that failed with a 502", async () => {
    fake.setFaults([{ kind: "status", status: 502 }]);
    const completion = await createCompletion(
      local({ models: [], imageModels: ["fake-image"] }),
      "fake-image",
      [{ role: "user", content: "a cat" }],
    );
    expect(completion.images).toHaveLength(2);
    expect(requestsTo("/images/generations")).toHaveLength(2);
  });

  it("never happen after text was passed on: a cut stream ends with StreamInterruptedError", async () => {
    fake.setFaults([{ kind: "cut-after", chunks: 2 }]);
    const { error, before } = await failure(
      local({ models: ["fake-chat"] }).createAsyncGenerator("fake-chat", hello, { stream: true }),
    );
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).partialText).toBe("Hello fr");
    expect(before.filter((chunk) => typeof chunk === "string")).toEqual(["Hell", "o fr"]);
    expect(requestsTo("/chat/completions")).toHaveLength(1);
  });

  it("are bounded, all of them, by the call's timeout", async () => {
    fake.setFaults(() => ({ kind: "delay-headers", ms: 1000 }));
    const started = Date.now();
    const error = await errorOf(
      local({
        models: ["fake-chat"],
        retry: { ...fastRetry, maxAttempts: 5 },
      }).createAsyncGenerator("fake-chat", hello, { timeout: 0.15 }),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(800);
  });
});

describe("several instances", () => {
  it("live side by side with their own base URL, key, models and label", async () => {
    const otherKey = "sk-other-fedcba9876543210";
    const other = await startOpenAICompatibleFake({ apiKey: otherKey, models: ["other-model"] });
    try {
      const first = local({ id: "first" });
      const second = new OpenAICompatible({
        id: "second",
        baseUrl: `${other.url}/v1`,
        apiKey: otherKey,
        modelAliases: { default: "other-model" },
      });
      await Promise.all([first.refreshModels(), second.refreshModels()]);
      expect(first.getModels()).toEqual(["fake-chat", "fake-chat-large", "fake-image"]);
      expect(second.getModels()).toEqual(["other-model"]);
      expect(second.modelAliases).toEqual({ default: "other-model" });
      expect(first.modelAliases).toEqual({});
      expect((await createCompletion(second, "default", hello)).text).toBe(
        "Hello from other-model!",
      );
      expect((await createCompletion(first, "fake-chat", hello)).text).toBe(
        "Hello from fake-chat!",
      );
      expect(other.requests.at(-1)?.headers.authorization).toBe(`Bearer ${otherKey}`);
      expect(lastChatRequest().headers.authorization).toBe(`Bearer ${apiKey}`);
      expect(() => first.getModel("other-model")).toThrow(/first/);
    } finally {
      await other.close();
    }
  });
});

describe("cancellation", () => {
  it("sends nothing when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await errorOf(
      local().createAsyncGenerator("fake-chat", hello, { signal: controller.signal }),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(fake.requests).toHaveLength(0);
  });

  it("closes the upstream socket when the consumer stops reading", async () => {
    fake.setFaults([{ kind: "never-end", afterChunks: 1 }]);
    const provider = local({ models: ["fake-chat"] });
    for await (const chunk of provider.createAsyncGenerator("fake-chat", hello, { stream: true })) {
      if (typeof chunk !== "string") continue;
      expect(chunk).toBe("Hell");
      break;
    }
    await fake.waitForConnectionsClosed(1000);
  });
});

describe("error refinement", () => {
  it("reads the upstream's words, not the label: Ollama's 404 page to a provider named model-server stays a 404", async () => {
    const { provider } = await scriptedUpstream(
      (_request, response) => sendText(response, 404, "404 page not found"),
      { id: "model-server", models: ["fake-chat"] },
    );
    const error = await errorOf(provider.createAsyncGenerator("fake-chat", hello));
    expect(error.name).toBe("ResponseStatusError");
    expect(error.message).toMatch(
      /^model-server answered 404: 404 page not found \(no such endpoint/,
    );
  });
});
