import { float32Base64 } from "@g4f-ts/provider-core";
import { OpenAICompatible } from "@g4f-ts/provider-openai-compatible";
import { sendJson, type TestServer, type TestServerHandler } from "@g4f-ts/testkit";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { openAIClientRegistries } from "../test-support/openai-client-registry.js";

const { upstream, serve } = openAIClientRegistries();

/** An upstream that answers `/v1/embeddings` with [first, index] per input, base64 when asked. */
function embeddingsUpstream(first: number): TestServerHandler {
  return (request, response) => {
    const body = request.json as { input: unknown; encoding_format?: string; model: string };
    const inputs =
      Array.isArray(body.input) && typeof body.input[0] !== "number" ? body.input : [body.input];
    sendJson(response, 200, {
      object: "list",
      model: body.model,
      data: inputs.map((_, index) => ({
        object: "embedding",
        index,
        embedding:
          body.encoding_format === "base64" ? float32Base64([first, index]) : [first, index],
      })),
      usage: { prompt_tokens: 5, total_tokens: 5 },
    });
  };
}

function instance(id: string, server: TestServer): OpenAICompatible {
  return new OpenAICompatible({
    id,
    baseUrl: `${server.url}/v1`,
    models: ["chat-model"],
    embeddingModels: ["embed-small"],
    retry: { maxAttempts: 1 },
  });
}

describe("POST /v1/embeddings with the official openai client", () => {
  it("answers embeddings.create with float vectors, forwarding every field", async () => {
    const one = await upstream(embeddingsUpstream(1));
    const { openai } = await serve([instance("one", one)]);
    const { data: answer, response } = await openai.embeddings
      .create({
        model: "embed-small",
        input: ["a", "b"],
        encoding_format: "float",
        dimensions: 2,
        user: "u-1",
      })
      .withResponse();
    expect(response.headers.get("x-g4f-provider")).toBe("one");
    expect(answer.object).toBe("list");
    expect(answer.data).toEqual([
      { object: "embedding", index: 0, embedding: [1, 0] },
      { object: "embedding", index: 1, embedding: [1, 1] },
    ]);
    expect(answer.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    expect(one.requests[0]?.path).toBe("/v1/embeddings");
    expect(one.requests[0]?.json).toEqual({
      model: "embed-small",
      input: ["a", "b"],
      encoding_format: "float",
      dimensions: 2,
      user: "u-1",
    });
  });

  it("serves base64, which the client decodes to the same floats", async () => {
    const one = await upstream(embeddingsUpstream(0.5));
    const { server, openai } = await serve([instance("one", one)]);
    // Without encoding_format the openai client asks for base64 and decodes it itself.
    const decoded = await openai.embeddings.create({ model: "embed-small", input: "a" });
    expect(one.requests[0]?.json).toMatchObject({ encoding_format: "base64" });
    expect(decoded.data[0]?.embedding).toEqual([0.5, 0]);
    const raw = await fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "embed-small", input: "a", encoding_format: "base64" }),
    });
    const body = (await raw.json()) as { data: { embedding: unknown }[] };
    expect(body.data[0]?.embedding).toBe(float32Base64([0.5, 0]));
  });

  it("encodes base64 itself when the upstream answered floats", async () => {
    const floatsOnly = await upstream((_request, response) =>
      sendJson(response, 200, { data: [{ index: 0, embedding: [0.25, -2] }] }),
    );
    const { server } = await serve([instance("floats", floatsOnly)]);
    const raw = await fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "embed-small", input: "a", encoding_format: "base64" }),
    });
    const body = (await raw.json()) as { data: { embedding: unknown }[] };
    expect(body.data[0]?.embedding).toBe(float32Base64([0.25, -2]));
  });

  it("falls back to the next provider when the first answers 503, and says which answered", async () => {
    const failing = await upstream((_request, response) =>
      sendJson(response, 503, { error: { message: "overloaded" } }),
    );
    const two = await upstream(embeddingsUpstream(2));
    const { openai } = await serve([instance("failing", failing), instance("two", two)]);
    const { data, response } = await openai.embeddings
      .create({ model: "embed-small", input: "a", encoding_format: "float" })
      .withResponse();
    expect(data.data[0]?.embedding).toEqual([2, 0]);
    expect(response.headers.get("x-g4f-provider")).toBe("two");
    expect(failing.requests).toHaveLength(1);
  });

  it("answers 502 listing each attempt when every provider failed", async () => {
    const failing = await upstream((_request, response) =>
      sendJson(response, 500, { error: { message: "broken" } }),
    );
    const { openai } = await serve([instance("failing", failing)]);
    const error = await openai.embeddings
      .create({ model: "embed-small", input: "a" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it("lists embedding models in /v1/models with type embedding, apart from chat models", async () => {
    const one = await upstream(embeddingsUpstream(1));
    const { openai } = await serve([instance("one", one)]);
    const models = [];
    for await (const model of openai.models.list()) models.push(model);
    expect(models.find((model) => model.id === "embed-small")).toMatchObject({
      owned_by: "one",
      type: "embedding",
    });
    expect(models.find((model) => model.id === "chat-model")).toMatchObject({ type: "chat" });
    expect(await openai.models.retrieve("embed-small")).toMatchObject({ type: "embedding" });
  });

  it("answers 404 for a model no provider serves as an embedding model, and 400 for an unknown field", async () => {
    const one = await upstream(embeddingsUpstream(1));
    const { openai, server } = await serve([instance("one", one)]);
    await expect(
      openai.embeddings.create({ model: "chat-model", input: "a" }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const raw = await fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "embed-small", input: "a", dimension: 3 }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { param: string } }).error.param).toBe("dimension");
    expect(one.requests).toHaveLength(0);
  });

  it("pins a provider with a provider:model prefix", async () => {
    const one = await upstream(embeddingsUpstream(1));
    const two = await upstream(embeddingsUpstream(2));
    const { openai } = await serve([instance("one", one), instance("two", two)]);
    const answer = await openai.embeddings.create({
      model: "two:embed-small",
      input: "a",
      encoding_format: "float",
    });
    expect(answer.data[0]?.embedding).toEqual([2, 0]);
    expect(one.requests).toHaveLength(0);
  });
});
