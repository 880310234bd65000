import type { AddressInfo, Socket } from "node:net";
import { createServer as createTcpServer } from "node:net";
import {
  AbortError,
  type Chunk,
  ConnectionError,
  closeDispatchers,
  FinishReason,
  ImageResponse,
  InvalidResponseError,
  isContentChunk,
  MissingAuthError,
  ModelNotSupportedError,
  PaymentRequiredError,
  ProviderError,
  RateLimitError,
  ResponseMetadata,
  ResponseStatusError,
  ResponseTooLargeError,
  StreamInterruptedError,
  TimeoutError,
  Usage,
} from "@g4f-ts/provider-core";
import {
  type AmigoChatFake,
  closedPortUrl,
  sendJson,
  startAmigoChatFake,
  startTestServer,
} from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { startConnectProxy } from "../test-support/connect-proxy.js";
import { amigoChatModelTable } from "./amigochat-models.js";
import type { AmigoChatOptions } from "./amigochat-options.js";
import { AmigoChat } from "./amigochat-provider.js";

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };
const hello = [{ role: "user" as const, content: "Hello!" }];
const balanceMessage =
  "Amigo, your balance is not enough to make the request, wait until 12 UTC or upgrade your plan";

let fake: AmigoChatFake;

beforeEach(async () => {
  fake = await startAmigoChatFake();
});

afterEach(async () => {
  await fake.close();
});

afterAll(async () => {
  await closeDispatchers();
});

function amigo(options: AmigoChatOptions = {}): AmigoChat {
  return new AmigoChat({ baseUrl: fake.url, retry: fastRetry, ...options });
}

async function collect(chunks: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const collected: Chunk[] = [];
  for await (const chunk of chunks) collected.push(chunk);
  return collected;
}

/** The chunks of the answer itself, without the upstream's metadata (its id and model). */
function answerOf(chunks: Chunk[]): Chunk[] {
  return chunks.filter((chunk) => !ResponseMetadata.isInstance(chunk));
}

function textOf(chunks: Chunk[]): string {
  return chunks.filter((chunk): chunk is string => typeof chunk === "string").join("");
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

function lastRequest() {
  const request = fake.requests.at(-1);
  if (request === undefined) throw new Error("the fake received no request");
  return request;
}

describe("the request", () => {
  it("is a POST to /v1/chat/completions with every header of the browser client", async () => {
    await collect(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    const request = lastRequest();
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v1/chat/completions");
    expect(request.headers).toMatchObject({
      accept: "*/*",
      "accept-language": "en-US,en;q=0.9",
      authorization: "Bearer",
      "cache-control": "no-cache",
      "content-type": "application/json",
      origin: "https://amigochat.io/chat/",
      pragma: "no-cache",
      priority: "u=1, i",
      referer: "https://amigochat.io/chat//",
      "sec-ch-ua": '"Chromium";v="129", "Not=A?Brand";v="8"',
      "sec-ch-ua-mobile": "?0",
      "sec-ch-ua-platform": '"Linux"',
      "x-device-language": "en-US",
      "x-device-platform": "web",
      "x-device-version": "1.0.45",
    });
    expect(request.headers["user-agent"]).toMatch(
      /^Mozilla\/5\.0 \(X11; Linux x86_64\) .* Chrome\/\d+\.0\.0\.0 Safari\/537\.36$/,
    );
    expect(request.headers["x-device-uuid"]).toMatch(uuidV4);
  });

  it("goes on the wire as the browser client's head, byte for byte: names, order, values, fresh ids", async () => {
    // A bare TCP server: the request's head exactly as the bytes arrived.
    const heads: string[] = [];
    const sockets: Socket[] = [];
    const raw = createTcpServer((socket) => {
      sockets.push(socket);
      let received = "";
      socket.on("data", (data: Buffer) => {
        received += data.toString("latin1");
        const end = received.indexOf("\r\n\r\n");
        const length = /\r\ncontent-length: (\d+)\r\n/i.exec(received);
        if (end < 0 || length === null || received.length < end + 4 + Number(length[1])) return;
        heads.push(received.slice(0, end));
        received = "";
        const event =
          'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n';
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: ${event.length}\r\n\r\n${event}`,
        );
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    const { port } = raw.address() as AddressInfo;
    try {
      const provider = amigo({ baseUrl: `http://127.0.0.1:${port}` });
      for (let call = 0; call < 2; call++)
        expect(textOf(await collect(provider.createAsyncGenerator("gpt-4o-mini", hello)))).toBe(
          "Hi",
        );
    } finally {
      // The pooled connection is kept alive: end it here rather than wait for its timeout.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
    const expected = [
      "POST /v1/chat/completions HTTP/1.1",
      `host: 127.0.0.1:${port}`,
      "connection: keep-alive",
      "accept: */*",
      "accept-language: en-US,en;q=0.9",
      "authorization: Bearer",
      "cache-control: no-cache",
      "content-type: application/json",
      "origin: https://amigochat.io/chat/",
      "pragma: no-cache",
      "priority: u=1, i",
      "referer: https://amigochat.io/chat//",
      'sec-ch-ua: "Chromium";v="129", "Not=A?Brand";v="8"',
      "sec-ch-ua-mobile: ?0",
      'sec-ch-ua-platform: "Linux"',
      "user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
      "x-device-language: en-US",
      "x-device-platform: web",
      "x-device-uuid: <uuid>",
      "x-device-version: 1.0.45",
      "content-length: <length>",
    ];
    const devicePrefix = "x-device-uuid: ";
    expect(heads).toHaveLength(2);
    const devices = heads.map((head) =>
      head
        .split("\r\n")
        .find((line) => line.startsWith(devicePrefix))
        ?.slice(devicePrefix.length),
    );
    for (const [index, head] of heads.entries()) {
      expect(devices[index]).toMatch(uuidV4);
      const lines = head
        .split("\r\n")
        .map((line) => (line.startsWith(devicePrefix) ? `${devicePrefix}<uuid>` : line))
        .map((line) => line.replace(/^content-length: \d+$/, "content-length: <length>"));
      expect(lines).toEqual(expected);
    }
    expect(devices[0]).not.toBe(devices[1]);
  });

  it("carries the body of the wire document with the reference's defaults, in its order", async () => {
    await collect(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    const body = lastRequest().json as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      "chatId",
      "frequency_penalty",
      "max_tokens",
      "messages",
      "model",
      "personaId",
      "presence_penalty",
      "stream",
      "temperature",
      "top_p",
    ]);
    expect(body).toEqual({
      chatId: expect.stringMatching(uuidV4),
      frequency_penalty: 0,
      max_tokens: 4000,
      messages: [{ role: "user", content: "Hello!" }],
      model: "gpt-4o-mini",
      personaId: "amigo",
      presence_penalty: 0,
      stream: false,
      temperature: 0.5,
      top_p: 0.95,
    });
  });

  it("sends every sampling option and the chat id under its wire name", async () => {
    await collect(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, {
        chatId: "my-chat",
        stream: true,
        frequencyPenalty: 0.25,
        maxTokens: 12,
        presencePenalty: -0.5,
        temperature: 1.2,
        topP: 0.5,
      }),
    );
    expect(lastRequest().json).toMatchObject({
      chatId: "my-chat",
      frequency_penalty: 0.25,
      max_tokens: 12,
      presence_penalty: -0.5,
      stream: true,
      temperature: 1.2,
      top_p: 0.5,
    });
  });

  it("honours g4f's spellings max_tokens and top_p, as a g4f user passes them", async () => {
    const options = { max_tokens: 64, top_p: 0.2, frequency_penalty: 0.1, presence_penalty: 0.3 };
    await collect(amigo().createAsyncGenerator("gpt-4o-mini", hello, options as never));
    expect(lastRequest().json).toMatchObject({
      max_tokens: 64,
      top_p: 0.2,
      frequency_penalty: 0.1,
      presence_penalty: 0.3,
    });
  });

  it("sends the whole history, system message included, as role and content only", async () => {
    const messages = [
      { role: "system" as const, content: "You are a friendly assistant." },
      { role: "user" as const, content: "Hi!" },
      { role: "assistant" as const, content: "Hello!" },
      { role: "user" as const, content: [{ type: "text" as const, text: "How are you?" }] },
    ];
    const withExtra = messages.map((message) => ({ ...message, name: "ignored" }));
    await collect(amigo().createAsyncGenerator("gpt-4o-mini", withExtra));
    expect((lastRequest().json as { messages: unknown }).messages).toEqual(messages);
  });

  it("uses a fresh chat id and a fresh device uuid for every call", async () => {
    const provider = amigo();
    await collect(provider.createAsyncGenerator("gpt-4o-mini", hello));
    await collect(provider.createAsyncGenerator("gpt-4o-mini", hello));
    const [first, second] = fake.requests.map((request) => ({
      chatId: (request.json as { chatId: string }).chatId,
      deviceUuid: request.headers["x-device-uuid"],
    }));
    expect(first?.chatId).not.toBe(second?.chatId);
    expect(first?.deviceUuid).not.toBe(second?.deviceUuid);
    expect(fake.requests).toHaveLength(2);
  });

  it("goes through the configured proxy, and a call's own proxy wins", async () => {
    const instanceProxy = await startConnectProxy();
    const callProxy = await startConnectProxy();
    try {
      const provider = amigo({ proxy: instanceProxy.url });
      const chunks = await collect(provider.createAsyncGenerator("gpt-4o-mini", hello));
      expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
      expect(instanceProxy.targets).toEqual([`127.0.0.1:${fake.port}`]);

      await collect(provider.createAsyncGenerator("gpt-4o-mini", hello, { proxy: callProxy.url }));
      expect(callProxy.targets).toEqual([`127.0.0.1:${fake.port}`]);
      expect(instanceProxy.targets).toHaveLength(1);
      expect(fake.requests).toHaveLength(2);
    } finally {
      await closeDispatchers();
      await instanceProxy.close();
      await callProxy.close();
    }
  });
});

describe("the answer", () => {
  it("is read from a plain JSON completion, the default stream: false", async () => {
    const chunks = answerOf(await collect(amigo().createAsyncGenerator("gpt-4o-mini", hello)));
    expect(chunks[0]).toBe("Hello from gpt-4o-mini!");
    expect(chunks[1]).toEqual(new FinishReason("stop"));
    expect(chunks[2]).toBeInstanceOf(Usage);
    expect(chunks).toHaveLength(3);
  });

  it("streams SSE deltas one by one with stream: true", async () => {
    const chunks = answerOf(
      await collect(amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true })),
    );
    expect(chunks).toEqual([
      "Hell",
      "o fr",
      "om g",
      "pt-4",
      "o-mi",
      "ni!",
      new FinishReason("stop"),
    ]);
  });

  it("reads choices that carry text instead of a delta, and streamed usage", async () => {
    await fake.close();
    fake = await startAmigoChatFake({ textField: "text", usage: true });
    const chunks = await collect(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
    expect(chunks.at(-1)).toBeInstanceOf(Usage);
  });

  it("skips SSE lines that are not JSON", async () => {
    fake.setFaults([{ kind: "malformed-sse" }]);
    const chunks = await collect(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
    expect(fake.requests).toHaveLength(1);
  });

  it("yields no text for an empty stream, and never an empty string", async () => {
    fake.setFaults([{ kind: "empty" }, { kind: "empty" }]);
    const provider = amigo();
    expect(
      await collect(provider.createAsyncGenerator("gpt-4o-mini", hello, { stream: true })),
    ).toEqual([]);
    const json = await collect(provider.createAsyncGenerator("gpt-4o-mini", hello));
    expect(json.filter((chunk) => typeof chunk === "string")).toEqual([]);
  });

  it("gives the same text streamed and not streamed", async () => {
    fake.setReply("Ünïcödé 🌍 text, split anywhere.");
    const provider = amigo();
    const streamed = await collect(
      provider.createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    const whole = await collect(provider.createAsyncGenerator("gpt-4o-mini", hello));
    expect(textOf(streamed)).toBe("Ünïcödé 🌍 text, split anywhere.");
    expect(textOf(whole)).toBe(textOf(streamed));
  });
});

describe("models", () => {
  it("resolves gpt-4o through its alias to gpt-4o-2024-11-20 (aliases first), not to persona summarizer", async () => {
    await collect(amigo().createAsyncGenerator("gpt-4o", hello));
    expect(lastRequest().json).toMatchObject({ model: "gpt-4o-2024-11-20", personaId: "gpt" });
  });

  it("sends the default model gpt-4o-mini for an empty model name", async () => {
    await collect(amigo().createAsyncGenerator("", hello));
    expect(lastRequest().json).toMatchObject({ model: "gpt-4o-mini", personaId: "amigo" });
  });

  it.each(Object.entries(amigoChatModelTable.modelAliases))(
    "resolves the alias %s to %s before sending",
    async (alias, target) => {
      const provider = amigo();
      const chunks = await collect(provider.createAsyncGenerator(alias, hello));
      const request = lastRequest();
      const image = provider.isImageModel(target);
      expect(request.path).toBe(image ? "/v1/images/generations" : "/v1/chat/completions");
      expect(request.json).toMatchObject({
        model: target,
        personaId: provider.getPersonaId(target),
      });
      expect(chunks.length).toBeGreaterThan(0);
    },
  );

  const everyModel = [
    ...Object.entries(amigoChatModelTable.chatModels).map(([model, persona]) => ({
      model,
      persona,
      image: false,
    })),
    ...Object.entries(amigoChatModelTable.imageModels).map(([model, persona]) => ({
      model,
      persona,
      image: true,
    })),
  ];

  it("covers 37 models", () => {
    expect(everyModel).toHaveLength(37);
  });

  it.each(everyModel)(
    "calls $model with its persona id $persona on the right endpoint",
    async ({ model, persona, image }) => {
      const provider = amigo();
      expect(provider.getPersonaId(model)).toBe(persona);
      const chunks = await collect(provider.createAsyncGenerator(model, hello));
      const request = lastRequest();
      expect(request.path).toBe(image ? "/v1/images/generations" : "/v1/chat/completions");
      // The one exception is the trap: the name gpt-4o is an alias, so the model of
      // that name (persona summarizer) is never what a call sends.
      if (model === "gpt-4o") {
        expect(request.json).toMatchObject({ model: "gpt-4o-2024-11-20", personaId: "gpt" });
      } else {
        expect(request.json).toMatchObject({ model, personaId: persona });
      }
      if (image) expect(chunks).toEqual([expect.any(ImageResponse)]);
      else expect(textOf(chunks)).toBe(`Hello from ${(request.json as { model: string }).model}!`);
    },
  );

  it("rejects an unknown model with ModelNotSupportedError, close names, and no request", async () => {
    const { error } = await failure(amigo().createAsyncGenerator("gpt-4o-mimi", hello));
    expect(error).toBeInstanceOf(ModelNotSupportedError);
    expect((error as ModelNotSupportedError).suggestions).toContain("gpt-4o-mini");
    expect((error as Error).message).toContain("AmigoChat");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("images", () => {
  it("posts the last message as the prompt with model and persona id, and yields one ImageResponse", async () => {
    const messages = [
      { role: "user" as const, content: "first" },
      { role: "user" as const, content: "Generate a picture of a kitten." },
    ];
    const chunks = await collect(amigo().createAsyncGenerator("flux-realism", messages));
    const request = lastRequest();
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v1/images/generations");
    expect(request.headers).toMatchObject({
      authorization: "Bearer",
      "content-type": "application/json",
      "x-device-version": "1.0.45",
    });
    expect(request.headers["x-device-uuid"]).toMatch(uuidV4);
    expect(request.json).toEqual({
      prompt: "Generate a picture of a kitten.",
      model: "flux-realism",
      personaId: "flux-realism",
    });
    expect(chunks).toHaveLength(1);
    const image = chunks[0] as ImageResponse;
    expect(image).toBeInstanceOf(ImageResponse);
    expect(image.images).toEqual([
      "https://images.example/flux-realism/1.png",
      "https://images.example/flux-realism/2.png",
    ]);
    expect(image.alt).toBe("Generate a picture of a kitten.");
  });

  it("fails with InvalidResponseError when the answer holds no image, and does not retry a paid generation", async () => {
    fake.setFaults(() => ({ kind: "empty" }));
    const { error, before } = await failure(amigo().createAsyncGenerator("dall-e-3", hello));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as InvalidResponseError).retryable).toBe(false);
    expect((error as Error).message).toBe(
      "AmigoChat answered without an image URL (not retried: a retry could pay for the generation again)",
    );
    expect(before).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it("skips an answer's image items that have no URL, as the reference does", async () => {
    const upstream = await startTestServer((_request, response) =>
      sendJson(response, 200, {
        data: [{ revised: "x" }, { url: "http://127.0.0.1/1.png" }, null],
      }),
    );
    try {
      const provider = new AmigoChat({ baseUrl: upstream.url, retry: fastRetry });
      const chunks = await collect(provider.createAsyncGenerator("flux-realism", hello));
      expect(chunks).toHaveLength(1);
      expect((chunks[0] as ImageResponse).images).toEqual(["http://127.0.0.1/1.png"]);
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await upstream.close();
    }
  });

  it("turns an error object in a 200 image answer into a typed error", async () => {
    fake.setFaults([{ kind: "error-in-stream", error: { message: balanceMessage } }]);
    const { error } = await failure(amigo().createAsyncGenerator("recraft-v3", hello));
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect((error as Error).message).toContain("balance is not enough");
    expect(fake.requests).toHaveLength(1);
  });

  it("fails clearly on a 200 image answer that is not JSON", async () => {
    fake.setFaults(() => ({ kind: "not-json" }));
    const { error } = await failure(amigo().createAsyncGenerator("flux-pro", hello));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain("not JSON");
  });

  it("refuses an image call without a prompt before sending anything", async () => {
    const { error } = await failure(
      amigo().createAsyncGenerator("flux-pro", [{ role: "user", content: "  " }]),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toContain("needs a prompt");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("retries", () => {
  it("retries a 5xx with a fresh device uuid and the same chat id, then succeeds", async () => {
    fake.setFaults([
      { kind: "status", status: 503 },
      { kind: "status", status: 502 },
    ]);
    const chunks = await collect(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
    expect(fake.requests).toHaveLength(3);
    const uuids = new Set(fake.requests.map((request) => request.headers["x-device-uuid"]));
    expect(uuids.size).toBe(3);
    const chatIds = new Set(
      fake.requests.map((request) => (request.json as { chatId: string }).chatId),
    );
    expect(chatIds.size).toBe(1);
  });

  it("gives up after 3 attempts with the last error, its status and the upstream's message", async () => {
    fake.setFaults(() => ({
      kind: "status",
      status: 500,
      body: { message: "Error handling AIML chat completion stream", statusCode: 500 },
    }));
    const { error } = await failure(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    expect(error).toBeInstanceOf(ResponseStatusError);
    expect(error).toMatchObject({ status: 500, retryable: true, provider: "AmigoChat" });
    expect((error as Error).message).toBe(
      "AmigoChat answered 500: Error handling AIML chat completion stream",
    );
    expect(fake.requests).toHaveLength(3);
  });

  it("makes as many attempts as retry.maxAttempts says", async () => {
    fake.setFaults(() => ({ kind: "status", status: 503 }));
    await failure(
      amigo({ retry: { ...fastRetry, maxAttempts: 5 } }).createAsyncGenerator("gpt-4o-mini", hello),
    );
    expect(fake.requests).toHaveLength(5);
  });

  it("waits as long as a 429's retry-after asks", async () => {
    fake.setFaults([{ kind: "status", status: 429, retryAfter: "0.3" }]);
    const started = performance.now();
    const chunks = await collect(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
    expect(fake.requests).toHaveLength(2);
  });

  it("fails at once with RateLimitError when retry-after is longer than the cap", async () => {
    fake.setFaults([{ kind: "status", status: 429, retryAfter: "120" }]);
    const started = performance.now();
    const { error } = await failure(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfter: 120 });
    // Waiting the 120 s would time the test out; the bound is far from any load's delay.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    [400, "Bad Request", ResponseStatusError],
    [401, "Unauthorized", MissingAuthError],
    [403, "Forbidden", MissingAuthError],
    [404, "Not Found", ResponseStatusError],
  ] as const)(
    "does not retry a %i and names the status and message",
    async (status, message, errorClass) => {
      fake.setFaults(() => ({ kind: "status", status }));
      const { error } = await failure(amigo().createAsyncGenerator("gpt-4o-mini", hello));
      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({ status, retryable: false });
      expect((error as Error).message).toBe(`AmigoChat answered ${status}: ${message}`);
      expect(fake.requests).toHaveLength(1);
    },
  );

  it("turns the balance message into PaymentRequiredError and does not retry, even under 429", async () => {
    fake.setFaults(() => ({
      kind: "status",
      status: 429,
      body: { message: balanceMessage, statusCode: 429 },
    }));
    const { error } = await failure(amigo().createAsyncGenerator("o1-mini-", hello));
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect((error as Error).message).toBe(`AmigoChat answered 429: ${balanceMessage}`);
    expect(fake.requests).toHaveLength(1);
  });

  it("reports a Cloudflare block page in one short sentence, without retrying", async () => {
    fake.setFaults(() => ({ kind: "html-block" }));
    const { error } = await failure(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    expect(error).toBeInstanceOf(ResponseStatusError);
    expect((error as Error).message).toBe(
      "AmigoChat answered 403: blocked by the upstream's bot protection (an HTML challenge page)",
    );
    expect((error as Error).message).not.toContain("<");
    expect(fake.requests).toHaveLength(1);
  });

  it("retries a dropped connection, then succeeds", async () => {
    fake.setFaults([{ kind: "drop" }]);
    const chunks = await collect(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
    expect(fake.requests).toHaveLength(2);
  });

  it("gives ConnectionError after its attempts when the connection is refused", async () => {
    // Nothing listens, so nothing can be counted there: the two backoff waits
    // (each at least half of 60 ms) show that the attempts happened.
    const provider = new AmigoChat({
      baseUrl: await closedPortUrl(),
      retry: { baseDelayMs: 60, maxDelayMs: 60 },
    });
    const started = performance.now();
    const { error } = await failure(provider.createAsyncGenerator("gpt-4o-mini", hello));
    expect(performance.now() - started).toBeGreaterThanOrEqual(58);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toContain("ECONNREFUSED");
  });

  it("retries a first-byte timeout, and reports TimeoutError once every attempt timed out", async () => {
    fake.setFaults(() => ({ kind: "delay-headers", ms: 2000 }));
    const started = performance.now();
    const { error } = await failure(
      amigo({ timeouts: { firstByteMs: 100 } }).createAsyncGenerator("gpt-4o-mini", hello),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "first-byte", timeoutMs: 100 });
    expect(fake.requests).toHaveLength(3);
    // Waiting for the 2 s headers three times would take 6 s; cut at 100 ms each, it takes far less.
    expect(performance.now() - started).toBeLessThan(6_000);
  });

  it("answers after a first-byte timeout when the next attempt is quick", async () => {
    fake.setFaults([{ kind: "delay-headers", ms: 2000 }]);
    const chunks = await collect(
      amigo({ timeouts: { firstByteMs: 100 } }).createAsyncGenerator("gpt-4o-mini", hello),
    );
    expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
    expect(fake.requests).toHaveLength(2);
  });

  it("bounds the whole call, retries included, by the call's timeout", async () => {
    fake.setFaults(() => ({ kind: "never-end" }));
    const { error } = await failure(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true, timeout: 0.3 }),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    // The upstream never ends: only the call's 0.3 s timeout can have ended it.
    expect((error as TimeoutError).phase).toBe("total");
  });
});

describe("failures inside a stream", () => {
  it("ends with StreamInterruptedError and the partial text when the stream is cut after text, never retrying", async () => {
    fake.setFaults([{ kind: "cut-after", chunks: 2 }]);
    const { error, before } = await failure(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    expect(answerOf(before)).toEqual(["Hell", "o fr"]);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).partialText).toBe("Hello fr");
    expect(fake.requests).toHaveLength(1);
  });

  it("does not retry a stream that stalls after text, and fails within the idle timeout", async () => {
    fake.setFaults(() => ({ kind: "never-end", afterChunks: 1 }));
    const { error, before } = await failure(
      amigo({ timeouts: { idleMs: 150 } }).createAsyncGenerator("gpt-4o-mini", hello, {
        stream: true,
      }),
    );
    expect(answerOf(before)).toEqual(["Hell"]);
    // The upstream never sends again: only the idle timeout can have ended it.
    expect(error).toBeInstanceOf(ProviderError);
    expect(fake.requests).toHaveLength(1);
  });

  it("retries a stream cut before any text", async () => {
    fake.setFaults([{ kind: "cut-after", chunks: 0 }]);
    const chunks = await collect(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
    expect(fake.requests).toHaveLength(2);
  });

  it("turns an error object inside a 200 stream into a typed error, retried while no text was sent", async () => {
    fake.setFaults([
      { kind: "error-in-stream", error: { message: "Error handling AIML chat completion stream" } },
    ]);
    const chunks = await collect(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    expect(textOf(chunks)).toBe("Hello from gpt-4o-mini!");
    expect(fake.requests).toHaveLength(2);
  });

  it("fails with the typed error of an error object that follows text, without retrying", async () => {
    fake.setFaults([
      {
        kind: "error-in-stream",
        afterChunks: 1,
        error: { message: "Error handling AIML chat completion stream" },
      },
    ]);
    const { error, before } = await failure(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    expect(answerOf(before)).toEqual(["Hell"]);
    expect(error).toBeInstanceOf(ResponseStatusError);
    expect((error as Error).message).toBe(
      "AmigoChat sent an error in its answer: Error handling AIML chat completion stream",
    );
    expect(fake.requests).toHaveLength(1);
  });

  it("does not retry an error object that carries a client status", async () => {
    fake.setFaults(() => ({
      kind: "error-in-stream",
      error: { message: "Forbidden", status: 403 },
    }));
    const { error } = await failure(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    expect(error).toBeInstanceOf(MissingAuthError);
    expect(fake.requests).toHaveLength(1);
  });

  it("turns an error body of a JSON answer into a typed error", async () => {
    fake.setFaults(() => ({ kind: "error-in-stream", error: { message: balanceMessage } }));
    const { error } = await failure(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("cancellation", () => {
  it("closes the upstream socket at once when the signal aborts mid-stream", async () => {
    fake.setFaults([{ kind: "never-end", afterChunks: 1 }]);
    const controller = new AbortController();
    const chunks = amigo().createAsyncGenerator("gpt-4o-mini", hello, {
      stream: true,
      signal: controller.signal,
    });
    const seen: Chunk[] = [];
    const consumed = (async () => {
      for await (const chunk of chunks) {
        if (!isContentChunk(chunk)) continue;
        seen.push(chunk);
        controller.abort();
      }
    })();
    await expect(consumed).rejects.toBeInstanceOf(AbortError);
    expect(seen).toEqual(["Hell"]);
    await fake.waitForConnectionsClosed(5_000);
    expect(fake.openConnections()).toBe(0);
    expect(fake.requests).toHaveLength(1);
  });

  it("closes the upstream socket when the consumer stops reading", async () => {
    fake.setFaults([{ kind: "never-end", afterChunks: 1 }]);
    for await (const chunk of amigo().createAsyncGenerator("gpt-4o-mini", hello, {
      stream: true,
    })) {
      if (!isContentChunk(chunk)) continue;
      expect(chunk).toBe("Hell");
      break;
    }
    await fake.waitForConnectionsClosed(5_000);
  });

  it("returns at once when the signal aborts during a backoff wait", async () => {
    fake.setFaults(() => ({ kind: "status", status: 503 }));
    const controller = new AbortController();
    const provider = amigo({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 } });
    const pending = failure(
      provider.createAsyncGenerator("gpt-4o-mini", hello, { signal: controller.signal }),
    );
    while (fake.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const abortedAt = performance.now();
    controller.abort();
    const { error } = await pending;
    // The backoff is at least 5 s: ending sooner is the abort's doing.
    expect(performance.now() - abortedAt).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(AbortError);
    expect(fake.requests).toHaveLength(1);
  });

  it("sends nothing when the signal is already aborted", async () => {
    const { error } = await failure(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { signal: AbortSignal.abort() }),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("error messages", () => {
  it("carry the upstream's status and message but never the device uuid it echoed", async () => {
    fake.setFaults((request) => ({
      kind: "status",
      status: 400,
      body: {
        message: `device ${String(request.headers["x-device-uuid"])} is unknown`,
        statusCode: 400,
      },
    }));
    const { error } = await failure(amigo().createAsyncGenerator("gpt-4o-mini", hello));
    const uuid = String(lastRequest().headers["x-device-uuid"]);
    const message = (error as ProviderError).message;
    expect(message).toBe("AmigoChat answered 400: device [redacted] is unknown");
    expect(message).not.toContain(uuid);
    expect((error as ProviderError).body).not.toContain(uuid);
  });

  it("use the instance's label", async () => {
    fake.setFaults(() => ({ kind: "status", status: 401 }));
    const { error } = await failure(
      amigo({ label: "Amigo Local" }).createAsyncGenerator("gpt-4o-mini", hello),
    );
    expect((error as Error).message).toBe("Amigo Local answered 401: Unauthorized");
    expect((error as ProviderError).provider).toBe("Amigo Local");
  });
});

describe("the driver methods", () => {
  it("createChat returns the whole text and sends the given chat id, not streaming", async () => {
    const provider = amigo();
    const chatId = provider.generateChatId();
    const text = await provider.createChat({ model: "gpt-4o-mini", chatId, messages: hello });
    expect(text).toBe("Hello from gpt-4o-mini!");
    expect(lastRequest().json).toMatchObject({ chatId, stream: false, temperature: 0.5 });
  });

  it("createChat stops an answer past 32 MiB with a ResponseTooLargeError instead of holding it", async () => {
    const long = await startAmigoChatFake({
      reply: () => Array.from({ length: 34 }, () => "y".repeat(1024 * 1024)),
    });
    try {
      const error = await amigo({ baseUrl: long.url })
        .createChat({ messages: hello, stream: true })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect((error as ResponseTooLargeError).limit).toBe(32 * 1024 * 1024);
      expect((error as Error).message).toContain("use streamChat");
      await long.waitForConnectionsClosed(2_000);
    } finally {
      await long.close();
    }
  });

  it("createChat uses the default model and passes sampling options on", async () => {
    const text = await amigo().createChat({ messages: hello, temperature: 0.1, maxTokens: 5 });
    expect(text).toBe("Hello from gpt-4o-mini!");
    expect(lastRequest().json).toMatchObject({
      model: "gpt-4o-mini",
      temperature: 0.1,
      max_tokens: 5,
    });
  });

  it("streamChat yields only text deltas from a streamed answer", async () => {
    const chunks: string[] = [];
    for await (const chunk of amigo().streamChat({ model: "claude-3.5-haiku", messages: hello })) {
      chunks.push(chunk);
    }
    expect(chunks.join("")).toBe("Hello from claude-3-5-haiku-latest!");
    expect(chunks.every((chunk) => typeof chunk === "string")).toBe(true);
    expect(lastRequest().json).toMatchObject({ stream: true, personaId: "3-5-haiku" });
  });

  it("createImage returns the ImageResponse of an image model, aliases included", async () => {
    const image = await amigo().createImage({ model: "flux-dev", prompt: "A kitten" });
    expect(image).toBeInstanceOf(ImageResponse);
    expect(image.images).toHaveLength(2);
    expect(image.prompt).toBe("A kitten");
    expect(lastRequest().json).toEqual({
      prompt: "A kitten",
      model: "flux/dev",
      personaId: "flux-dev",
    });
  });

  it("createImage refuses a chat model and createChat an image model, sending nothing", async () => {
    const provider = amigo();
    await expect(
      provider.createImage({ model: "gpt-4o-mini", prompt: "x" }),
    ).rejects.toBeInstanceOf(ModelNotSupportedError);
    await expect(provider.createChat({ model: "dall-e-3", messages: hello })).rejects.toThrow(
      /image model.*createImage/,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it("createChat rejects with the typed error of a failed call", async () => {
    fake.setFaults(() => ({ kind: "status", status: 403 }));
    await expect(amigo().createChat({ messages: hello })).rejects.toBeInstanceOf(MissingAuthError);
  });
});
