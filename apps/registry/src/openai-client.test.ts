import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AmigoPair,
  type AmigoPairOptions,
  startAmigoPair,
} from "./__fixtures__/amigo-pair.js";

let pair: AmigoPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

async function client(options: AmigoPairOptions = {}, apiKey = "sk-test") {
  pair = await startAmigoPair(options);
  // Default retries on: the registry's x-should-retry: false must keep the SDK from multiplying attempts.
  return { current: pair, openai: new OpenAI({ baseURL: `${pair.server.url}/v1`, apiKey }) };
}

const messages = [{ role: "user" as const, content: "Hi" }];

describe("the official openai client against the registry", () => {
  it("gets a chat completion, and the provider that answered", async () => {
    const { openai } = await client();
    const { data, response } = await openai.chat.completions
      .create({ model: "gpt-4o-mini", messages, temperature: 0.7, max_tokens: 100 })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello from gpt-4o-mini!");
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.object).toBe("chat.completion");
    expect((data as unknown as { provider: string }).provider).toBe("amigo-a");
    expect(response.headers.get("x-g4f-provider")).toBe("amigo-a");
    expect(pair?.a.requests[0]?.json).toMatchObject({ temperature: 0.7, max_tokens: 100 });
  });

  it("streams a chat completion with usage", async () => {
    const { openai } = await client({ fake: { usage: true } });
    const stream = await openai.chat.completions.create({
      model: "gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    const finishReasons: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) finishReasons.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
      expect(chunk.model).toBe("gpt-4o-2024-11-20");
    }
    expect(text).toBe("Hello from gpt-4o-2024-11-20!");
    expect(finishReasons).toEqual(["stop"]);
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it("generates images", async () => {
    const { openai } = await client();
    const images = await openai.images.generate({
      model: "flux-dev",
      prompt: "a red fox",
      response_format: "url",
    });
    expect(images.data?.map((image) => image.url)).toEqual([
      "https://images.example/flux%2Fdev/1.png",
      "https://images.example/flux%2Fdev/2.png",
    ]);
    expect(pair?.a.requests[0]?.json).toMatchObject({ prompt: "a red fox", model: "flux/dev" });
  });

  it("falls back for images too", async () => {
    const { openai, current } = await client();
    current.a.setFaults([{ kind: "html-block" }]);
    const images = await openai.images.generate({ model: "dall-e-3", prompt: "a red fox", n: 1 });
    expect(images.data).toHaveLength(1);
    expect(current.b.requests).toHaveLength(1);
  });

  it("lists the models, aliases included, with their owner", async () => {
    const { openai } = await client();
    const models = [];
    for await (const model of openai.models.list()) models.push(model);
    const ids = models.map((model) => model.id);
    expect(ids).toEqual(
      expect.arrayContaining(["gpt-4o-mini", "gpt-4o", "llama-3.1-405b", "flux-dev", "dall-e-3"]),
    );
    expect(models.find((model) => model.id === "gpt-4o")?.owned_by).toBe("amigo-a");
    const one = await openai.models.retrieve("meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo");
    expect(one.owned_by).toBe("amigo-a");
  });

  it("raises NotFoundError for a model no provider serves", async () => {
    const { openai } = await client();
    await expect(
      openai.chat.completions.create({ model: "gpt-9", messages }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("raises BadRequestError for a request that breaks the schema", async () => {
    const { openai } = await client();
    const error = await openai.chat.completions
      .create({ model: "gpt-4o-mini", messages: [], temperature: 1 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("messages");
  });

  it("raises AuthenticationError for a wrong API key", async () => {
    const { openai } = await client({ env: { G4F_API_KEY: "sk-right" } }, "sk-wrong");
    await expect(openai.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("raises RateLimitError once, without client retries, when every provider is rate limited", async () => {
    const { openai, current } = await client();
    current.a.setFaults([{ kind: "status", status: 429 }]);
    current.b.setFaults([{ kind: "status", status: 429 }]);
    await expect(
      openai.chat.completions.create({ model: "gpt-4o-mini", messages }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect(current.a.requests).toHaveLength(1);
    expect(current.b.requests).toHaveLength(1);
  });

  it("raises InternalServerError (502) once, without client retries, when every provider failed", async () => {
    const { openai, current } = await client();
    current.a.setFaults([{ kind: "status", status: 500 }]);
    current.b.setFaults([{ kind: "not-json" }]);
    const error = await openai.chat.completions
      .create({ model: "gpt-4o-mini", messages })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(current.a.requests).toHaveLength(1);
    expect(current.b.requests).toHaveLength(1);
  });

  it("raises an APIError from the error event of a stream that broke after content", async () => {
    const { openai, current } = await client();
    current.a.setFaults([{ kind: "error-in-stream", afterChunks: 1 }]);
    const stream = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages,
      stream: true,
    });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((caught: unknown) => caught);
    expect(text).toBe("Hell");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain(
      "failed after the answer had started",
    );
  });
});
