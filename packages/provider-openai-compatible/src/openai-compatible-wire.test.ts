import type { Messages } from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import {
  imageUrlsOf,
  openAICompatibleChatBody,
  openAICompatibleImageAnswerSchema,
  openAICompatibleImageBody,
  openAICompatibleModelListSchema,
} from "./openai-compatible-wire.js";

const messages = [
  { role: "system" as const, content: "Be brief." },
  { role: "user" as const, content: "Hi" },
];

describe("the chat body", () => {
  it("uses OpenAI's names for every sampling option, and asks a stream for its usage", () => {
    expect(
      openAICompatibleChatBody({
        model: "llama3.2",
        messages,
        stream: true,
        streamUsage: true,
        temperature: 0.2,
        topP: 0.9,
        maxTokens: 128,
        frequencyPenalty: 0.5,
        presencePenalty: -0.5,
      }),
    ).toMatchInlineSnapshot(`
      {
        "frequency_penalty": 0.5,
        "max_tokens": 128,
        "messages": [
          {
            "content": "Be brief.",
            "role": "system",
          },
          {
            "content": "Hi",
            "role": "user",
          },
        ],
        "model": "llama3.2",
        "presence_penalty": -0.5,
        "stream": true,
        "stream_options": {
          "include_usage": true,
        },
        "temperature": 0.2,
        "top_p": 0.9,
      }
    `);
  });

  it("leaves out unset sampling options and stream_options when not streaming", () => {
    expect(
      openAICompatibleChatBody({
        model: "m",
        messages: [{ role: "user", content: "Hi" }],
        stream: false,
        streamUsage: true,
        temperature: null,
        topP: undefined,
      }),
    ).toEqual({ model: "m", messages: [{ role: "user", content: "Hi" }], stream: false });
  });

  it("keeps a zero, which is a value and not an absence", () => {
    const body = openAICompatibleChatBody({
      model: "m",
      messages,
      stream: false,
      streamUsage: true,
      temperature: 0,
      presencePenalty: 0,
    });
    expect(body).toMatchObject({ temperature: 0, presence_penalty: 0 });
  });

  it("writes the same body from a call's options handed over as `features` as from the same options spread in", () => {
    const options = {
      stream: true,
      signal: new AbortController().signal,
      tools: [{ type: "function" as const, function: { name: "f" } }],
      temperature: 0.3,
      maxTokens: 9,
      extraBody: { top_k: 4 },
    };
    const common = { model: "m", messages, stream: true, streamUsage: true, defaultBody: { a: 1 } };
    const spread = openAICompatibleChatBody({ ...options, ...common });
    const handed = openAICompatibleChatBody({ ...common, features: options });
    expect(JSON.stringify(handed)).toBe(JSON.stringify(spread));
  });

  it("does not ask for usage when streamUsage is off", () => {
    const body = openAICompatibleChatBody({
      model: "m",
      messages,
      stream: true,
      streamUsage: false,
    });
    expect(body).not.toHaveProperty("stream_options");
  });

  it("sends the messages exactly as given: every role and field, every part", () => {
    const conversation: Messages = [
      { role: "developer", content: "Answer in JSON." },
      {
        role: "user",
        name: "ada",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
          { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
          {
            type: "file",
            file: { file_data: "data:application/pdf;base64,JVBE", filename: "a.pdf" },
          },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "look", arguments: '{"at":"it"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "a cat" },
    ];
    const body = openAICompatibleChatBody({
      model: "llava",
      messages: conversation,
      stream: false,
      streamUsage: true,
    });
    expect(body.messages).toBe(conversation);
    expect(JSON.parse(JSON.stringify(body)).messages).toEqual(conversation);
  });

  it("puts the instance's extraBody under the call's fields, and the call's extraBody over them", () => {
    const body = openAICompatibleChatBody({
      model: "m",
      messages,
      stream: true,
      streamUsage: true,
      temperature: 0.3,
      maxTokens: 10,
      extraBody: { max_tokens: 20, top_k: 40, stream_options: { include_obfuscation: false } },
      defaultBody: { options: { num_ctx: 8192 }, temperature: 1, top_k: 1 },
    });
    expect(body).toEqual({
      model: "m",
      messages,
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
      options: { num_ctx: 8192 },
      temperature: 0.3,
      max_tokens: 20,
      top_k: 40,
    });
  });

  it("refuses an extraBody that would set the model or an address", () => {
    const build = (extraBody: Record<string, unknown>) => () =>
      openAICompatibleChatBody({
        model: "m",
        messages,
        stream: false,
        streamUsage: true,
        extraBody,
      });
    expect(build({ model: "other" })).toThrow(/extraBody\.model/);
    expect(build({ base_url: "http://127.0.0.1:9" })).toThrow(/extraBody\.base_url/);
  });
});

describe("the image wire", () => {
  it("sends model and prompt, n and size only when set", () => {
    expect(openAICompatibleImageBody({ model: "dall-e-3", prompt: "a cat" })).toEqual({
      model: "dall-e-3",
      prompt: "a cat",
    });
    expect(
      openAICompatibleImageBody({ model: "dall-e-3", prompt: "a cat", n: 2, size: "512x512" }),
    ).toEqual({ model: "dall-e-3", prompt: "a cat", n: 2, size: "512x512" });
  });

  it("reads URLs, and base64 images as PNG data URLs, in order", () => {
    const answer = openAICompatibleImageAnswerSchema.parse({
      created: 1,
      data: [{ url: "https://images.example/1.png" }, { b64_json: "iVBORw0KGgo=" }, {}],
    });
    expect(imageUrlsOf(answer)).toEqual([
      "https://images.example/1.png",
      "data:image/png;base64,iVBORw0KGgo=",
    ]);
  });

  it("reads an answer without data as no image", () => {
    expect(imageUrlsOf(openAICompatibleImageAnswerSchema.parse({}))).toEqual([]);
  });
});

describe("the model list", () => {
  it("reads the ids of data and ignores the other fields", () => {
    const list = openAICompatibleModelListSchema.parse({
      object: "list",
      data: [{ id: "llama3.2:latest", object: "model", created: 1, owned_by: "library" }],
    });
    expect(list.data.map((model) => model.id)).toEqual(["llama3.2:latest"]);
  });

  it("rejects a list without data", () => {
    expect(openAICompatibleModelListSchema.safeParse({ models: [] }).success).toBe(false);
  });
});
