import {
  closeDispatchers,
  NativeResponseText,
  ResponseStatusError,
  supportsResponsesPassthrough,
} from "@g4f-ts/provider-core";
import {
  sendJson,
  startTestServer,
  type TestServer,
  type TestServerHandler,
} from "@g4f-ts/testkit";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { OpenAICompatible } from "./openai-compatible-provider.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await closeDispatchers();
});

async function provider(handler: TestServerHandler, responsesApi?: "native" | "translate") {
  const server = await startTestServer(handler);
  servers.push(server);
  const instance = new OpenAICompatible({
    id: "local",
    baseUrl: `${server.url}/v1`,
    apiKey: "sk-native",
    models: ["gpt-5-mini"],
    imageModels: ["image-1"],
    ...(responsesApi === undefined ? {} : { responsesApi }),
    retry: { maxAttempts: 1 },
  });
  return { server, instance };
}

describe("OpenAICompatible Responses passthrough", () => {
  it("translates by default, and forwards chat models (not image models) with responsesApi native", async () => {
    const { instance } = await provider(() => undefined);
    expect(supportsResponsesPassthrough(instance)).toBe(true);
    expect(instance.forwardsResponses("gpt-5-mini")).toBe(false);
    const { instance: nativeInstance } = await provider(() => undefined, "native");
    expect(nativeInstance.forwardsResponses("gpt-5-mini")).toBe(true);
    expect(nativeInstance.forwardsResponses("image-1")).toBe(false);
  });

  it("posts the body unchanged to /responses with the key, and yields the answer's text", async () => {
    const { server, instance } = await provider(
      (_request, response) => sendJson(response, 200, { id: "resp_1", object: "response" }),
      "native",
    );
    const chunks = [];
    for await (const chunk of instance.forwardResponse({
      model: "gpt-5-mini",
      input: "Hi",
      foo: 1,
    }))
      chunks.push(chunk);
    expect(server.requests[0]?.path).toBe("/v1/responses");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer sk-native");
    expect(server.requests[0]?.json).toEqual({ model: "gpt-5-mini", input: "Hi", foo: 1 });
    const text = chunks
      .map((chunk) => (NativeResponseText.isInstance(chunk) ? chunk.text : ""))
      .join("");
    expect(JSON.parse(text)).toEqual({ id: "resp_1", object: "response" });
    expect(NativeResponseText.isInstance(chunks[0]) && chunks[0].contentType).toContain(
      "application/json",
    );
  });

  it("fails with the core's typed error on an error status", async () => {
    const { instance } = await provider(
      (_request, response) => sendJson(response, 500, { error: { message: "broken" } }),
      "native",
    );
    const consume = async () => {
      for await (const _chunk of instance.forwardResponse({ model: "gpt-5-mini", input: "Hi" })) {
        // Read to the end.
      }
    };
    await expect(consume()).rejects.toBeInstanceOf(ResponseStatusError);
  });
});
