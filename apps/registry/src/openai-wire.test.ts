import { InvalidOptionsError } from "@g4f-ts/provider-core";
import { checkMessages } from "@g4f-ts/provider-core/internal";
import { describe, expect, it } from "vitest";
import { HttpError } from "./http-errors.js";
import {
  parseChatRequest,
  parseImageRequest,
  toImageOptions,
  toMessages,
  toProviderOptions,
} from "./openai-wire.js";

const everyMessageForm = [
  { role: "developer", content: "Be brief." },
  { role: "system", content: [{ type: "text", text: "You are a bot." }], name: "setup" },
  {
    role: "user",
    name: "ada",
    content: [
      { type: "text", text: "What do you see and hear?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
      { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
      { type: "file", file: { file_data: "data:application/pdf;base64,JVBE", filename: "a.pdf" } },
      { type: "file", file: { file_id: "file-abc" } },
    ],
  },
  {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "call_1", type: "function", function: { name: "look", arguments: '{"at":"x"}' } },
    ],
  },
  { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "a cat" }] },
  { role: "assistant", content: [{ type: "refusal", refusal: "No." }], refusal: "No." },
  { role: "assistant", content: "Earlier", function_call: { name: "f", arguments: "{}" } },
  { role: "function", name: "f", content: null },
  { role: "assistant", content: "Thought through", reasoning_content: "hmm" },
];

function refusal(body: unknown): HttpError {
  try {
    parseChatRequest(body);
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error("the request was accepted");
}

describe("the chat request", () => {
  it("vouches for a one-message conversation it built, so the call pipeline does not check it again", () => {
    const messages = toMessages(
      parseChatRequest({ model: "m", messages: [{ role: "user", content: "Hello" }] }),
    );
    // Changed behind the vouching's back (same length): only a check that is skipped passes it.
    (messages as unknown[])[0] = { role: "nobody", content: 5 };
    expect(() =>
      checkMessages(messages, "P", (options) => new InvalidOptionsError(options)),
    ).not.toThrow();
  });

  it("keeps every OpenAI message form as the client wrote it, developer as developer", () => {
    const messages = toMessages(parseChatRequest({ model: "m", messages: everyMessageForm }));
    expect(messages).toEqual(everyMessageForm);
  });

  it("passes every field to the provider under its option name, max_completion_tokens apart from max_tokens", () => {
    const tools = [
      {
        type: "function",
        function: { name: "f", description: "d", parameters: { type: "object" }, strict: true },
      },
    ];
    const responseFormat = {
      type: "json_schema",
      json_schema: { name: "answer", schema: { type: "object" }, strict: true },
    };
    const options = toProviderOptions(
      parseChatRequest({
        model: "m",
        messages: [{ role: "user", content: "Hi" }],
        max_tokens: 10,
        max_completion_tokens: 20,
        temperature: 0.2,
        top_p: 0.9,
        frequency_penalty: 0.1,
        presence_penalty: 0.3,
        n: 3,
        stop: ["END"],
        seed: 42,
        user: "user-1",
        metadata: { team: "a" },
        logit_bias: { "50256": -100 },
        logprobs: true,
        top_logprobs: 2,
        reasoning_effort: "low",
        service_tier: "flex",
        tools,
        tool_choice: { type: "function", function: { name: "f" } },
        parallel_tool_calls: false,
        response_format: responseFormat,
        modalities: ["text"],
        store: true,
        prompt_cache_key: "k",
        some_future_field: { nested: [1, 2] },
      }),
    );
    expect(options).toEqual({
      maxTokens: 10,
      maxCompletionTokens: 20,
      temperature: 0.2,
      topP: 0.9,
      frequencyPenalty: 0.1,
      presencePenalty: 0.3,
      n: 3,
      stop: ["END"],
      seed: 42,
      user: "user-1",
      metadata: { team: "a" },
      logitBias: { "50256": -100 },
      logprobs: true,
      topLogprobs: 2,
      reasoningEffort: "low",
      serviceTier: "flex",
      tools,
      toolChoice: { type: "function", function: { name: "f" } },
      parallelToolCalls: false,
      responseFormat,
      extraBody: {
        modalities: ["text"],
        store: true,
        prompt_cache_key: "k",
        some_future_field: { nested: [1, 2] },
      },
    });
  });

  it("refuses a message key it does not know, naming it, rather than leaving it behind", () => {
    const error = refusal({
      model: "m",
      messages: [{ role: "user", content: "Hi", surprise: true }],
    });
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/surprise/);
  });

  it("refuses a tool message without its tool_call_id, and a tool of another type", () => {
    expect(refusal({ messages: [{ role: "tool", content: "x" }] }).param).toBe(
      "messages.0.tool_call_id",
    );
    expect(
      refusal({
        messages: [{ role: "user", content: "x" }],
        tools: [{ type: "custom", custom: { name: "x" } }],
      }).param,
    ).toMatch(/^tools\.0/);
  });

  it("still refuses the fields that set an upstream address", () => {
    for (const field of ["proxy", "base_url", "api_base"])
      expect(
        refusal({ messages: [{ role: "user", content: "x" }], [field]: "http://x" }).param,
      ).toBe(field);
  });
});

describe("the image request", () => {
  it("passes n and user by name and size, quality, style, b64_json and other fields through extraBody", () => {
    const request = parseImageRequest({
      model: "dall-e-3",
      prompt: "a fox",
      n: 2,
      size: "1024x1024",
      quality: "hd",
      style: "vivid",
      response_format: "b64_json",
      user: "u",
      background: "transparent",
    });
    expect(toImageOptions(request)).toEqual({
      n: 2,
      user: "u",
      extraBody: {
        size: "1024x1024",
        quality: "hd",
        style: "vivid",
        response_format: "b64_json",
        background: "transparent",
      },
    });
  });

  it("refuses a field named __proto__ by name rather than losing it unnamed", () => {
    // JSON.parse makes `__proto__` an ordinary key; copied by assignment it set the
    // prototype of the extra fields, and the field vanished without a word.
    const body = JSON.parse(
      '{"model":"m","messages":[{"role":"user","content":"hi"}],"__proto__":{"polluted":true}}',
    );
    expect(() => parseChatRequest(body)).toThrow(HttpError);
    expect(() => parseChatRequest(body)).toThrow(/__proto__/);
    const image = JSON.parse('{"model":"m","prompt":"a fox","__proto__":{"n":5}}');
    expect(() => parseImageRequest(image)).toThrow(/__proto__/);
  });

  it("does not forward response_format url, which every provider gives", () => {
    expect(toImageOptions(parseImageRequest({ prompt: "a fox", response_format: "url" }))).toEqual(
      {},
    );
  });
});
