import {
  type Chunk,
  closeDispatchers,
  type InvalidOptionsError,
  type Messages,
  ResponseMetadata,
  samplingFeatures,
} from "@g4f-ts/provider-core";
import { type AmigoChatFake, startAmigoChatFake } from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { amigoChatCapabilities } from "./amigochat-models.js";
import { AmigoChatOptionsError } from "./amigochat-options.js";
import { AmigoChat } from "./amigochat-provider.js";

let fake: AmigoChatFake;
beforeEach(async () => {
  fake = await startAmigoChatFake();
});
afterEach(async () => {
  await fake.close();
});
afterAll(closeDispatchers);

const hello = [{ role: "user" as const, content: "Hello!" }];

function amigo(): AmigoChat {
  return new AmigoChat({ baseUrl: fake.url, retry: { maxAttempts: 1 } });
}

async function collect(chunks: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const collected: Chunk[] = [];
  for await (const chunk of chunks) collected.push(chunk);
  return collected;
}

async function refusal(chunks: AsyncIterable<Chunk>): Promise<InvalidOptionsError> {
  try {
    await collect(chunks);
  } catch (error) {
    expect(AmigoChatOptionsError.isInstance(error)).toBe(true);
    return error as InvalidOptionsError;
  }
  throw new Error("expected the call to be refused");
}

describe("AmigoChat's capabilities", () => {
  it("are the reference's: the five sampling options and text, for every chat model", () => {
    const provider = amigo();
    for (const model of provider.chatModels) {
      expect(provider.capabilities(model)).toEqual({
        features: samplingFeatures,
        inputs: [],
        responseFormats: [],
      });
    }
    expect(provider.capabilities("flux-realism")).toEqual({
      features: [],
      inputs: [],
      responseFormats: [],
    });
    expect(amigoChatCapabilities.features).toEqual([
      "temperature",
      "topP",
      "maxTokens",
      "frequencyPenalty",
      "presencePenalty",
    ]);
  });

  it.each([
    ["tools", { tools: [{ type: "function", function: { name: "f" } }] }],
    ["tool_choice", { toolChoice: "auto" }],
    ["response_format", { responseFormat: { type: "json_schema", json_schema: { name: "a" } } }],
    ["response_format", { responseFormat: { type: "json_object" } }],
    ["n", { n: 2 }],
    ["stop", { stop: "END" }],
    ["seed", { seed: 1 }],
    ["max_completion_tokens", { maxCompletionTokens: 10 }],
    ["logprobs", { logprobs: true }],
    ["extra_body", { extraBody: { top_k: 1 } }],
  ])("refuses %s, naming it, before any request", async (field, options) => {
    const error = await refusal(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, options as never),
    );
    expect(error.field).toBe(field);
    expect(fake.requests).toHaveLength(0);
  });

  it("takes n: 1 and a text response format, which ask for nothing more", async () => {
    await collect(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, {
        n: 1,
        responseFormat: { type: "text" },
      }),
    );
    expect(fake.requests).toHaveLength(1);
  });

  it("refuses image, audio and file parts, and tool-call history, naming the message", async () => {
    const picture: Messages = [
      {
        role: "user",
        content: [
          { type: "text", text: "What is it?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
        ],
      },
    ];
    expect(
      (
        await refusal(
          amigo().createAsyncGenerator("meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo", picture),
        )
      ).field,
    ).toBe("messages.0.content.1");
    const toolLoop: Messages = [
      ...hello,
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: "42" },
    ];
    expect((await refusal(amigo().createAsyncGenerator("gpt-4o-mini", toolLoop))).field).toBe(
      "messages.1.tool_calls",
    );
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses sampling options on an image model, which takes its prompt alone", async () => {
    const error = await refusal(
      amigo().createAsyncGenerator("flux-realism", [{ role: "user", content: "a cat" }], {
        temperature: 0.1,
      }),
    );
    expect(error.field).toBe("temperature");
  });

  it("sends a developer message as system, and an assistant's refusal as its text", async () => {
    await collect(
      amigo().createAsyncGenerator("gpt-4o-mini", [
        { role: "developer", content: "Be brief." },
        { role: "assistant", content: null, refusal: "I can't." },
        ...hello,
      ]),
    );
    expect(fake.requests[0]?.json).toHaveProperty("messages", [
      { role: "system", content: "Be brief." },
      { role: "assistant", content: "I can't." },
      { role: "user", content: "Hello!" },
    ]);
  });

  it("still names an unknown model as such, after the options", async () => {
    await expect(collect(amigo().createAsyncGenerator("no-such-model", hello))).rejects.toThrow(
      /no-such-model/,
    );
  });

  it("passes the upstream's id and model on as ResponseMetadata", async () => {
    const chunks = await collect(
      amigo().createAsyncGenerator("gpt-4o-mini", hello, { stream: true }),
    );
    expect(chunks.some((chunk) => ResponseMetadata.isInstance(chunk))).toBe(true);
  });
});
