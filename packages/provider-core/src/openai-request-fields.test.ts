import { describe, expect, it } from "vitest";
import { CallOptionsReader } from "./call-options.js";
import { callFeatures, callFeatureWireNames } from "./capabilities.js";
import { openAIRequestFields } from "./openai-request-fields.js";
import { openAISamplingFields } from "./openai-sampling.js";
import { defineOptionsError, InvalidOptionsError } from "./provider-options.js";

const everyFeature = {
  temperature: 0.2,
  topP: 0.9,
  maxTokens: 64,
  maxCompletionTokens: 128,
  frequencyPenalty: 0.1,
  presencePenalty: 0.3,
  stop: ["END", "STOP"],
  seed: 7,
  n: 2,
  user: "user-1",
  metadata: { session: "s1" },
  logitBias: { "50256": -100 },
  logprobs: true,
  topLogprobs: 3,
  reasoningEffort: "low",
  serviceTier: "flex",
  tools: [
    {
      type: "function" as const,
      function: { name: "get_weather", parameters: { type: "object" }, strict: true },
    },
  ],
  toolChoice: { type: "function" as const, function: { name: "get_weather" } },
  parallelToolCalls: false,
  responseFormat: {
    type: "json_schema" as const,
    json_schema: { name: "weather", schema: { type: "object" }, strict: true },
  },
};

function errorOf(action: () => unknown): InvalidOptionsError {
  try {
    action();
  } catch (error) {
    expect(InvalidOptionsError.isInstance(error)).toBe(true);
    return error as InvalidOptionsError;
  }
  throw new Error("expected an InvalidOptionsError");
}

describe("openAIRequestFields", () => {
  it("writes every call feature under its OpenAI wire name with its value unchanged", () => {
    const fields = openAIRequestFields(everyFeature);
    expect(fields).toEqual({
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 64,
      max_completion_tokens: 128,
      frequency_penalty: 0.1,
      presence_penalty: 0.3,
      stop: ["END", "STOP"],
      seed: 7,
      n: 2,
      user: "user-1",
      metadata: { session: "s1" },
      logit_bias: { "50256": -100 },
      logprobs: true,
      top_logprobs: 3,
      reasoning_effort: "low",
      service_tier: "flex",
      tools: everyFeature.tools,
      tool_choice: everyFeature.toolChoice,
      parallel_tool_calls: false,
      response_format: everyFeature.responseFormat,
    });
    // Every feature but extraBody (which is spread) has its wire name in the body.
    const named = callFeatures.filter((feature) => feature !== "extraBody");
    expect(Object.keys(fields).sort()).toEqual(
      named.map((feature) => callFeatureWireNames[feature]).sort(),
    );
  });

  it("writes the same fields in the same order from a plain object as from any other", () => {
    const calls: Record<string, unknown>[] = [
      {},
      { stream: true, signal: new AbortController().signal },
      { temperature: 0.2, stream: true },
      // Out of the features' order, as a caller may write them.
      { tools: [], seed: 1, maxCompletionTokens: 9, temperature: null, maxTokens: 3, topP: 0.5 },
      { ...everyFeature },
      Object.fromEntries(Object.entries(everyFeature).reverse()),
    ];
    for (const options of calls) {
      // The same options behind a prototype: read feature by feature.
      const proxied = Object.create(options) as Record<string, unknown>;
      const plain = openAIRequestFields(options);
      expect(Object.entries(plain)).toEqual(Object.entries(openAIRequestFields(proxied)));
    }
  });

  it("never rewrites max_completion_tokens into max_tokens, nor the other way", () => {
    expect(openAIRequestFields({ maxCompletionTokens: 100 })).toEqual({
      max_completion_tokens: 100,
    });
    expect(openAIRequestFields({ maxTokens: 100 })).toEqual({ max_tokens: 100 });
  });

  it("leaves out what is unset or null, false and 0 kept", () => {
    expect(
      openAIRequestFields({ temperature: null, seed: 0, logprobs: false, stop: undefined }),
    ).toEqual({ seed: 0, logprobs: false });
  });

  it("spreads extraBody last and verbatim, over a named field of the same wire name", () => {
    const fields = openAIRequestFields({
      temperature: 0.2,
      extraBody: { temperature: 1, prediction: { type: "content", content: "x" }, top_k: 40 },
    });
    expect(fields).toEqual({
      temperature: 1,
      prediction: { type: "content", content: "x" },
      top_k: 40,
    });
    expect(Object.keys(fields)).toEqual(["temperature", "prediction", "top_k"]);
  });

  it.each([
    "model",
    "messages",
    "stream",
    "base_url",
    "api_base",
    "apiBase",
    "proxy",
    "HTTPS_PROXY",
    "api-url",
  ])("refuses an extraBody key %s, naming it, with the provider's own error", (key) => {
    const AcmeOptionsError = defineOptionsError("AcmeOptionsError");
    const error = errorOf(() =>
      openAIRequestFields(
        { extraBody: { [key]: "http://127.0.0.1:9/" } },
        { provider: "Acme", createError: (options) => new AcmeOptionsError(options) },
      ),
    );
    expect(error.name).toBe("AcmeOptionsError");
    expect(error.field).toBe(`extraBody.${key}`);
    expect(error.message).toContain(`"extraBody.${key}"`);
    expect(error.message).not.toContain("127.0.0.1");
  });

  it("never lets a __proto__ key of extraBody replace the body's prototype", () => {
    const fields = openAIRequestFields({
      extraBody: JSON.parse('{"__proto__": {"polluted": true}, "top_k": 1}'),
    });
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(fields).toEqual({ top_k: 1 });
  });

  it("leaves openAISamplingFields as it was: the five sampling options only", () => {
    expect(openAISamplingFields({ ...everyFeature })).toEqual({
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 64,
      frequency_penalty: 0.1,
      presence_penalty: 0.3,
    });
  });
});

describe("a call's extraBody, as the options reader reads it", () => {
  const reader = new CallOptionsReader("Acme", {});

  it("is refused when it would set an address, before anything is sent", () => {
    const error = errorOf(() => reader.read({ extraBody: { api_base: "http://127.0.0.1:9" } }));
    expect(error.field).toBe("extraBody.api_base");
  });

  it("is refused when it would set the model, messages or stream", () => {
    expect(errorOf(() => reader.read({ extraBody: { model: "other" } })).field).toBe(
      "extraBody.model",
    );
  });

  it("passes any other field", () => {
    expect(reader.read({ extra_body: { top_k: 40 } }).extraBody).toEqual({ top_k: 40 });
  });
});
