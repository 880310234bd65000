import {
  ChoiceChunk,
  type Chunk,
  closeDispatchers,
  createCompletion,
  FinishReason,
  fullModelCapabilities,
  Logprobs,
  type Messages,
  Refusal,
  ResponseMetadata,
  ToolCallAssembler,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "@g4f-ts/provider-core";
import {
  type RecordedRequest,
  sendJson,
  sendSse,
  startTestServer,
  type TestServer,
  type TestServerHandler,
} from "@g4f-ts/testkit";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  type OpenAICompatibleOptions,
  OpenAICompatibleOptionsError,
} from "./openai-compatible-options.js";
import { OpenAICompatible } from "./openai-compatible-provider.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(closeDispatchers);

/** A recording upstream answering with `handler`, and an instance on it. */
async function upstream(
  handler: TestServerHandler,
  options: Partial<OpenAICompatibleOptions> = {},
): Promise<{ server: TestServer; provider: OpenAICompatible }> {
  const server = await startTestServer(handler);
  servers.push(server);
  const provider = new OpenAICompatible({
    id: "recorded",
    baseUrl: `${server.url}/v1`,
    models: ["gpt-test", "llama3", "fake-image"],
    imageModels: ["fake-image"],
    retry: { maxAttempts: 1 },
    ...options,
  });
  return { server, provider };
}

const plainAnswer = {
  id: "chatcmpl-1",
  object: "chat.completion",
  model: "gpt-test",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
};

async function collect(chunks: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const collected: Chunk[] = [];
  for await (const chunk of chunks) collected.push(chunk);
  return collected;
}

function onlyRequest(server: TestServer): RecordedRequest {
  expect(server.requests).toHaveLength(1);
  return server.requests[0] as RecordedRequest;
}

async function refusal(chunks: AsyncIterable<Chunk>): Promise<OpenAICompatibleOptionsError> {
  try {
    await collect(chunks);
  } catch (error) {
    expect(OpenAICompatibleOptionsError.isInstance(error)).toBe(true);
    return error as OpenAICompatibleOptionsError;
  }
  throw new Error("expected the call to be refused");
}

const conversation: Messages = [
  { role: "developer", content: "Use the tools." },
  { role: "system", content: [{ type: "text", text: "Be brief." }], name: "policy" },
  {
    role: "user",
    name: "ada",
    content: [
      { type: "text", text: "What is on this picture, and in this recording?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "high" } },
      { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
      { type: "file", file: { file_id: "file-123" } },
    ],
  },
  {
    role: "assistant",
    content: null,
    refusal: null,
    tool_calls: [
      { id: "call_1", type: "function", function: { name: "look", arguments: '{"at":"picture"}' } },
    ],
  },
  { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "a cat" }] },
];

const tools = [
  {
    type: "function" as const,
    function: {
      name: "look",
      description: "Look at something",
      parameters: { type: "object", properties: { at: { type: "string" } }, required: ["at"] },
      strict: true,
    },
  },
];

const everyOption = {
  temperature: 0.2,
  topP: 0.9,
  maxTokens: 64,
  maxCompletionTokens: 128,
  frequencyPenalty: 0.1,
  presencePenalty: 0.3,
  stop: ["END"],
  seed: 42,
  n: 2,
  user: "user-7",
  metadata: { run: "r1" },
  logitBias: { "1234": 5 },
  logprobs: true,
  topLogprobs: 2,
  reasoningEffort: "high",
  serviceTier: "priority",
  tools,
  toolChoice: "required" as const,
  parallelToolCalls: false,
  responseFormat: {
    type: "json_schema" as const,
    json_schema: { name: "answer", schema: { type: "object" }, strict: true },
  },
  extraBody: { prediction: { type: "content", content: "a cat" }, top_k: 5 },
};

describe("the forwarded request", () => {
  it("carries the messages exactly as given and every call option under its OpenAI name (JSON)", async () => {
    const { server, provider } = await upstream((_request, response) =>
      sendJson(response, 200, plainAnswer),
    );
    await collect(provider.createAsyncGenerator("gpt-test", conversation, everyOption));
    const request = onlyRequest(server);
    expect(request.path).toBe("/v1/chat/completions");
    expect(request.json).toEqual({
      model: "gpt-test",
      messages: conversation,
      stream: false,
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 64,
      max_completion_tokens: 128,
      frequency_penalty: 0.1,
      presence_penalty: 0.3,
      stop: ["END"],
      seed: 42,
      n: 2,
      user: "user-7",
      metadata: { run: "r1" },
      logit_bias: { "1234": 5 },
      logprobs: true,
      top_logprobs: 2,
      reasoning_effort: "high",
      service_tier: "priority",
      tools,
      tool_choice: "required",
      parallel_tool_calls: false,
      response_format: everyOption.responseFormat,
      prediction: { type: "content", content: "a cat" },
      top_k: 5,
    });
  });

  it("carries the same with a stream, which asks for its usage", async () => {
    const { server, provider } = await upstream((_request, response) =>
      sendSse(response, [{ choices: [{ delta: { content: "ok" }, finish_reason: "stop" }] }]),
    );
    await collect(
      provider.createAsyncGenerator("gpt-test", conversation, { ...everyOption, stream: true }),
    );
    const body = onlyRequest(server).json as Record<string, unknown>;
    expect(body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 128,
      max_tokens: 64,
      tool_choice: "required",
      top_k: 5,
    });
    expect(body.messages).toEqual(conversation);
  });

  it("sends max_completion_tokens alone when only it is set, never as max_tokens", async () => {
    const { server, provider } = await upstream((_request, response) =>
      sendJson(response, 200, plainAnswer),
    );
    await collect(
      provider.createAsyncGenerator("gpt-test", [{ role: "user", content: "Hi" }], {
        maxCompletionTokens: 50,
      }),
    );
    expect(onlyRequest(server).json).toEqual({
      model: "gpt-test",
      messages: [{ role: "user", content: "Hi" }],
      stream: false,
      max_completion_tokens: 50,
    });
  });

  it("refuses an extraBody that would point the upstream elsewhere, sending nothing", async () => {
    const { server, provider } = await upstream((_request, response) =>
      sendJson(response, 200, plainAnswer),
    );
    const error = await refusal(
      provider.createAsyncGenerator("gpt-test", [{ role: "user", content: "Hi" }], {
        extraBody: { api_base: "http://127.0.0.1:9/v1" },
      }),
    );
    expect(error.field).toBe("extraBody.api_base");
    expect(server.requests).toHaveLength(0);
  });
});

describe("the answer, mapped back", () => {
  it("streams tool-call pieces, refusal, logprobs, usage details, metadata and a second choice", async () => {
    const facts = { id: "chatcmpl-9", model: "gpt-test-0613", system_fingerprint: "fp_9" };
    const tokenLogprob = { token: "ok", logprob: -0.01, bytes: [111, 107], top_logprobs: [] };
    const { provider } = await upstream((_request, response) =>
      sendSse(response, [
        {
          ...facts,
          choices: [
            {
              index: 0,
              delta: {
                role: "assistant",
                tool_calls: [
                  {
                    index: 0,
                    id: "call_a",
                    type: "function",
                    function: { name: "look", arguments: "" },
                  },
                ],
              },
            },
            { index: 1, delta: { role: "assistant", refusal: "I won't." } },
          ],
        },
        {
          ...facts,
          choices: [
            {
              index: 0,
              delta: { tool_calls: [{ index: 0, function: { arguments: '{"at":"x"}' } }] },
            },
          ],
        },
        {
          ...facts,
          choices: [
            {
              index: 1,
              delta: { content: "ok" },
              logprobs: { content: [tokenLogprob], refusal: null },
            },
          ],
        },
        {
          ...facts,
          choices: [
            { index: 0, delta: {}, finish_reason: "tool_calls" },
            { index: 1, delta: {}, finish_reason: "stop" },
          ],
        },
        {
          ...facts,
          choices: [],
          usage: {
            prompt_tokens: 9,
            completion_tokens: 4,
            total_tokens: 13,
            completion_tokens_details: { reasoning_tokens: 0 },
          },
        },
      ]),
    );
    const chunks = await collect(
      provider.createAsyncGenerator("gpt-test", [{ role: "user", content: "Look" }], {
        stream: true,
        n: 2,
        tools,
        logprobs: true,
      }),
    );
    expect(chunks[0]).toEqual(
      new ResponseMetadata({ id: "chatcmpl-9", model: "gpt-test-0613", systemFingerprint: "fp_9" }),
    );
    const calls = new ToolCallAssembler();
    for (const chunk of chunks) calls.add(chunk);
    expect(calls.toolCalls()).toEqual([
      { id: "call_a", type: "function", function: { name: "look", arguments: '{"at":"x"}' } },
    ]);
    const second = chunks
      .filter((chunk) => chunk instanceof ChoiceChunk)
      .map((chunk) => chunk.chunk);
    expect(second).toEqual([
      new Refusal("I won't."),
      "ok",
      new Logprobs([tokenLogprob], null),
      new FinishReason("stop"),
    ]);
    expect(chunks.filter((chunk) => chunk instanceof FinishReason)).toEqual([
      new FinishReason("tool_calls"),
    ]);
    expect(chunks.at(-1)).toEqual(
      new Usage({
        promptTokens: 9,
        completionTokens: 4,
        totalTokens: 13,
        completionTokensDetails: { reasoning_tokens: 0 },
      }),
    );
    expect(chunks.filter((chunk) => chunk instanceof ToolCallDelta)).toHaveLength(2);
  });

  it("reads a JSON answer's tool calls, refusal, logprobs, usage details and every choice", async () => {
    const { provider } = await upstream((_request, response) =>
      sendJson(response, 200, {
        id: "chatcmpl-2",
        model: "gpt-test",
        system_fingerprint: "fp_2",
        service_tier: "default",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: null,
              tool_calls: [
                { id: "call_b", type: "function", function: { name: "look", arguments: "{}" } },
              ],
            },
            finish_reason: "tool_calls",
          },
          {
            index: 1,
            message: { role: "assistant", content: null, refusal: "No." },
            logprobs: {
              content: null,
              refusal: [{ token: "No", logprob: -0.5, bytes: null, top_logprobs: [] }],
            },
            finish_reason: "stop",
          },
        ],
        usage: {
          prompt_tokens: 5,
          completion_tokens: 2,
          total_tokens: 7,
          prompt_tokens_details: { cached_tokens: 4 },
        },
      }),
    );
    const chunks = await collect(
      provider.createAsyncGenerator("gpt-test", [{ role: "user", content: "Look" }], {
        n: 2,
        tools,
      }),
    );
    expect(chunks).toEqual([
      new ResponseMetadata({
        id: "chatcmpl-2",
        model: "gpt-test",
        systemFingerprint: "fp_2",
        serviceTier: "default",
      }),
      new ToolCalls([
        { id: "call_b", type: "function", function: { name: "look", arguments: "{}" } },
      ]),
      new FinishReason("tool_calls"),
      new ChoiceChunk(1, new Refusal("No.")),
      new ChoiceChunk(
        1,
        new Logprobs(null, [{ token: "No", logprob: -0.5, bytes: null, top_logprobs: [] }]),
      ),
      new ChoiceChunk(1, new FinishReason("stop")),
      new Usage({
        promptTokens: 5,
        completionTokens: 2,
        totalTokens: 7,
        promptTokensDetails: { cached_tokens: 4 },
      }),
    ]);
  });

  it("gives createCompletion the tool calls of a tool-only answer", async () => {
    const { provider } = await upstream((_request, response) =>
      sendSse(response, [
        {
          choices: [
            {
              delta: {
                tool_calls: [{ index: 0, id: "c", function: { name: "look", arguments: "{}" } }],
              },
            },
          ],
        },
        { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
      ]),
    );
    const completion = await createCompletion(
      provider,
      "gpt-test",
      [{ role: "user", content: "Look" }],
      {
        stream: true,
        tools,
      },
    );
    expect(completion.finishReason).toBe("tool_calls");
    expect(completion.text).toBe("");
  });
});

describe("capabilities", () => {
  const withoutTools = { without: ["tools", "toolChoice", "parallelToolCalls"] } as const;

  it("are everything by default, and what the config says per model, an alias's entry included", async () => {
    const { provider } = await upstream(() => undefined, {
      modelAliases: { llama: "llama3" },
      capabilities: {
        default: { without: ["audio"] },
        models: {
          llama3: { ...withoutTools, inputs: ["image"] },
          "gpt-test": { responseFormats: ["json_object"] },
        },
      },
    });
    expect(provider.capabilities("gpt-test")).toEqual({
      features: fullModelCapabilities.features,
      inputs: ["image", "file"],
      responseFormats: ["json_object"],
    });
    expect(provider.capabilities("llama3").features).not.toContain("tools");
    expect(provider.capabilities("llama3").inputs).toEqual(["image"]);
    expect(provider.capabilities("fake-image")).toEqual({
      features: ["n", "extraBody"],
      inputs: [],
      responseFormats: [],
    });
    const plain = new OpenAICompatible({ baseUrl: "http://127.0.0.1:9/v1" });
    expect(plain.capabilities("anything")).toEqual(fullModelCapabilities);
  });

  it("refuse a tool call to a model configured without tools, naming the field, before any request", async () => {
    const { server, provider } = await upstream(
      (_request, response) => sendJson(response, 200, plainAnswer),
      {
        modelAliases: { llama: "llama3" },
        capabilities: { models: { llama3: withoutTools } },
      },
    );
    const hello = [{ role: "user" as const, content: "Hi" }];
    const error = await refusal(provider.createAsyncGenerator("llama", hello, { tools }));
    expect(error.field).toBe("tools");
    expect(error.message).toContain("tool calls");
    const history = await refusal(provider.createAsyncGenerator("llama3", conversation.slice(3)));
    expect(history.field).toBe("messages.0.tool_calls");
    expect(server.requests).toHaveLength(0);
    await collect(provider.createAsyncGenerator("gpt-test", hello, { tools }));
    expect(server.requests).toHaveLength(1);
  });

  it("refuse an image part, a JSON schema and extraBody where the config takes them away", async () => {
    const { server, provider } = await upstream(() => undefined, {
      capabilities: {
        default: { inputs: [], responseFormats: ["json_object"], without: ["extraBody"] },
      },
    });
    const picture = [
      {
        role: "user" as const,
        content: [
          { type: "text" as const, text: "What is it?" },
          { type: "image_url" as const, image_url: { url: "data:image/png;base64,AAAA" } },
        ],
      },
    ];
    expect((await refusal(provider.createAsyncGenerator("gpt-test", picture))).field).toBe(
      "messages.0.content.1",
    );
    const schema = await refusal(
      provider.createAsyncGenerator("gpt-test", [{ role: "user", content: "Hi" }], {
        responseFormat: everyOption.responseFormat,
      }),
    );
    expect(schema.field).toBe("response_format");
    const extra = await refusal(
      provider.createAsyncGenerator("gpt-test", [{ role: "user", content: "Hi" }], {
        extraBody: { top_k: 1 },
      }),
    );
    expect(extra.field).toBe("extra_body");
    expect(server.requests).toHaveLength(0);
  });

  it("refuse sampling options on an image model, which takes n", async () => {
    const { server, provider } = await upstream((_request, response) =>
      sendJson(response, 200, {
        data: [{ url: "https://example.test/a.png" }, { url: "https://example.test/b.png" }],
      }),
    );
    const cat = [{ role: "user" as const, content: "a cat" }];
    expect(
      (await refusal(provider.createAsyncGenerator("fake-image", cat, { temperature: 1 }))).field,
    ).toBe("temperature");
    await collect(provider.createAsyncGenerator("fake-image", cat, { n: 2 }));
    expect(onlyRequest(server).json).toEqual({ model: "fake-image", prompt: "a cat", n: 2 });
  });

  it("are validated: an unknown name is an options error naming its place", () => {
    const create = (capabilities: unknown) => () =>
      new OpenAICompatible({
        baseUrl: "http://127.0.0.1:9/v1",
        capabilities,
      } as OpenAICompatibleOptions);
    expect(create({ models: { llama3: { without: ["tool"] } } })).toThrow(
      /capabilities\.models\.llama3\.without\.0/,
    );
    expect(create({ defaults: {} })).toThrow(OpenAICompatibleOptionsError);
    expect(create({ default: { features: ["tools"] } })).not.toThrow();
  });

  it("and the instance's extraBody may not set the model, the messages or stream", () => {
    expect(
      () => new OpenAICompatible({ baseUrl: "http://127.0.0.1:9/v1", extraBody: { model: "x" } }),
    ).toThrow(/extraBody\.model/);
  });
});
