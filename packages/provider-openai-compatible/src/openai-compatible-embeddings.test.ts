import {
  closeDispatchers,
  float32Base64,
  float32FromBase64,
  InvalidResponseError,
  ModelNotSupportedError,
  supportsEmbeddings,
} from "@g4f-ts/provider-core";
import {
  sendJson,
  startTestServer,
  type TestServer,
  type TestServerHandler,
} from "@g4f-ts/testkit";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { OpenAICompatibleOptionsError } from "./openai-compatible-options.js";
import { OpenAICompatible } from "./openai-compatible-provider.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await closeDispatchers();
});

/** An upstream that answers `/v1/embeddings` with a vector [index, 0.5] per input, as floats or as asked. */
const embeddingsUpstream: TestServerHandler = (request, response) => {
  const body = request.json as { input: unknown; encoding_format?: string; model: string };
  const inputs =
    Array.isArray(body.input) && typeof body.input[0] !== "number" ? body.input : [body.input];
  sendJson(response, 200, {
    object: "list",
    model: body.model,
    data: inputs.map((_, index) => ({
      object: "embedding",
      index,
      embedding: body.encoding_format === "base64" ? float32Base64([index, 0.5]) : [index, 0.5],
    })),
    usage: { prompt_tokens: 3, total_tokens: 3 },
  });
};

async function provider(handler: TestServerHandler = embeddingsUpstream) {
  const server = await startTestServer(handler);
  servers.push(server);
  const instance = new OpenAICompatible({
    id: "local",
    baseUrl: `${server.url}/v1`,
    apiKey: "sk-embed",
    models: ["chat"],
    embeddingModels: ["embed-small"],
    modelAliases: { embed: "embed-small" },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });
  return { server, instance };
}

describe("OpenAICompatible embeddings", () => {
  it("has the embeddings capability, with its embedding models apart from the chat models", async () => {
    const { instance } = await provider();
    expect(supportsEmbeddings(instance)).toBe(true);
    expect(instance.embeddingModels).toEqual(["embed-small"]);
    expect(instance.getModels()).toEqual(["chat"]);
  });

  it("posts the input and every option under OpenAI's names, and returns the vectors in order", async () => {
    const { server, instance } = await provider();
    const answer = await instance.createEmbeddings("embed", ["a", "b"], {
      dimensions: 2,
      user: "u-1",
      encodingFormat: "float",
    });
    expect(server.requests[0]?.path).toBe("/v1/embeddings");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer sk-embed");
    expect(server.requests[0]?.json).toEqual({
      model: "embed-small",
      input: ["a", "b"],
      encoding_format: "float",
      dimensions: 2,
      user: "u-1",
    });
    expect(answer).toEqual({
      vectors: [
        [0, 0.5],
        [1, 0.5],
      ],
      model: "embed-small",
      usage: { promptTokens: 3, totalTokens: 3 },
    });
  });

  it("counts one list of token ids as one input", async () => {
    const { instance } = await provider();
    const answer = await instance.createEmbeddings("embed-small", [1, 2, 3]);
    expect(answer.vectors).toHaveLength(1);
  });

  it("forwards base64 as the upstream wrote it", async () => {
    const { instance } = await provider();
    const answer = await instance.createEmbeddings("embed-small", "a", {
      encodingFormat: "base64",
    });
    expect(answer.vectors).toEqual([float32Base64([0, 0.5])]);
  });

  it("encodes floats as base64 itself when the upstream ignores encoding_format", async () => {
    const { instance } = await provider((_request, response) =>
      sendJson(response, 200, { data: [{ index: 0, embedding: [0.25, -1] }] }),
    );
    const answer = await instance.createEmbeddings("embed-small", "a", {
      encodingFormat: "base64",
    });
    expect(float32FromBase64(answer.vectors[0] as string)).toEqual([0.25, -1]);
  });

  it("puts the vectors in input order when the upstream sends them out of order", async () => {
    const { instance } = await provider((_request, response) =>
      sendJson(response, 200, {
        data: [
          { index: 1, embedding: [1] },
          { index: 0, embedding: [0] },
        ],
      }),
    );
    const answer = await instance.createEmbeddings("embed-small", ["a", "b"]);
    expect(answer.vectors).toEqual([[0], [1]]);
  });

  it("fails with InvalidResponseError when the upstream answers fewer vectors than inputs", async () => {
    const { instance } = await provider((_request, response) =>
      sendJson(response, 200, { data: [{ index: 0, embedding: [0] }] }),
    );
    await expect(instance.createEmbeddings("embed-small", ["a", "b"])).rejects.toBeInstanceOf(
      InvalidResponseError,
    );
  });

  it("retries a 503 and then answers", async () => {
    let calls = 0;
    const { server, instance } = await provider((request, response) => {
      calls++;
      if (calls === 1) return sendJson(response, 503, { error: { message: "busy" } });
      return embeddingsUpstream(request, response, { socket: response.socket as never, index: 1 });
    });
    const answer = await instance.createEmbeddings("embed-small", "a");
    expect(answer.vectors).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it("turns a 404 about the model into ModelNotSupportedError", async () => {
    const { instance } = await provider((_request, response) =>
      sendJson(response, 404, {
        error: { message: "model 'embed-small' not found, try pulling it first" },
      }),
    );
    await expect(instance.createEmbeddings("embed-small", "a")).rejects.toBeInstanceOf(
      ModelNotSupportedError,
    );
  });

  it("refuses an empty input list and an unknown option before anything is sent", async () => {
    const { server, instance } = await provider();
    await expect(instance.createEmbeddings("embed-small", [])).rejects.toBeInstanceOf(
      OpenAICompatibleOptionsError,
    );
    await expect(
      instance.createEmbeddings("embed-small", "a", { dimension: 3 } as never),
    ).rejects.toThrow(/dimensions/);
    expect(server.requests).toHaveLength(0);
  });
});
