import {
  FinishReason,
  fullModelCapabilities,
  Reasoning,
  Refusal,
  ResponseStatusError,
  StreamInterruptedError,
  ToolCallDelta,
  Usage,
} from "@g4f-ts/provider-core";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ScriptedProvider,
  type ScriptedProviderOptions,
  scriptedProvider,
} from "./__fixtures__/scripted-provider.js";
import { startScriptedServer } from "./__fixtures__/scripted-server.js";
import type { RegistryConfigInput } from "./config.js";
import type { RunningServer } from "./server.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

/** A scripted provider whose models honour every feature (tools, JSON schema, …), as an OpenAI upstream's do. */
function capable(options: ScriptedProviderOptions): ScriptedProvider {
  return Object.assign(scriptedProvider(options), { capabilities: () => fullModelCapabilities });
}

async function serve(providers: ScriptedProvider[], config: RegistryConfigInput = {}) {
  const server = await startScriptedServer(providers, {
    routing: { timeouts: { firstChunkMs: 2_000, idleMs: 2_000, totalMs: 10_000 } },
    ...config,
  });
  servers.push(server);
  // maxRetries 0: the registry falls back itself and says x-should-retry: false.
  const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  return { server, openai };
}

interface ErrorBody {
  error: { message: string; param: string | null; code: string | null };
}

async function errorOf(response: Response): Promise<ErrorBody["error"]> {
  return ((await response.json()) as ErrorBody).error;
}

function post(server: RunningServer, path: string, body: unknown) {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "The weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
  strict: true,
};

describe("POST /v1/responses with the official openai client", () => {
  it("answers responses.create with a message item, usage, and the request's fields echoed", async () => {
    const alpha = capable({
      id: "alpha",
      script: [
        [
          "Hello",
          ", world",
          new FinishReason("stop"),
          new Usage({
            promptTokens: 12,
            completionTokens: 3,
            promptTokensDetails: { cached_tokens: 4 },
            completionTokensDetails: { reasoning_tokens: 1 },
          }),
        ],
      ],
    });
    const { openai } = await serve([alpha]);
    const { data: response, response: raw } = await openai.responses
      .create({
        model: "test-model",
        instructions: "Be brief.",
        input: "Hi",
        temperature: 0.5,
        top_p: 0.9,
        max_output_tokens: 50,
        metadata: { ticket: "42" },
        reasoning: { effort: "low" },
        user: "u-1",
      })
      .withResponse();
    expect(raw.headers.get("x-g4f-provider")).toBe("alpha");
    expect(response.id).toMatch(/^resp_/);
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe("Hello, world");
    expect(response.output).toEqual([
      {
        type: "message",
        id: expect.stringMatching(/^msg_/),
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Hello, world", annotations: [], logprobs: [] }],
      },
    ]);
    expect(response.usage).toEqual({
      input_tokens: 12,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 1 },
      total_tokens: 15,
    });
    expect(response).toMatchObject({
      instructions: "Be brief.",
      temperature: 0.5,
      top_p: 0.9,
      max_output_tokens: 50,
      metadata: { ticket: "42" },
      reasoning: { effort: "low", summary: null },
      store: true,
      tools: [],
      tool_choice: "auto",
      text: { format: { type: "text" } },
      model: "test-model",
    });
    const call = alpha.calls[0];
    expect(call?.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ]);
    expect(call?.options).toMatchObject({
      temperature: 0.5,
      topP: 0.9,
      maxCompletionTokens: 50,
      reasoningEffort: "low",
      user: "u-1",
      stream: true,
    });
    // metadata is the response's own, kept and echoed, not a model input.
    expect(call?.options).not.toHaveProperty("metadata");
  });

  it("streams responses.stream with OpenAI's event sequence and a sequence number on every event", async () => {
    const alpha = capable({
      id: "alpha",
      script: [
        [
          "Hel",
          "lo",
          new FinishReason("stop"),
          new Usage({ promptTokens: 2, completionTokens: 2 }),
        ],
      ],
    });
    const { openai } = await serve([alpha]);
    const stream = openai.responses.stream({ model: "test-model", input: "Hi" });
    const events: { type: string; sequence_number: number }[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(final.output_text).toBe("Hello");
    expect(final.status).toBe("completed");
    expect(final.usage?.total_tokens).toBe(4);
  });

  it("runs a function tool round trip: a function_call item, then its function_call_output", async () => {
    const alpha = capable({
      id: "alpha",
      script: [
        [
          new ToolCallDelta({ index: 0, id: "call_1", name: "get_weather" }),
          new ToolCallDelta({ index: 0, arguments: '{"city":' }),
          new ToolCallDelta({ index: 0, arguments: '"Paris"}' }),
          new FinishReason("tool_calls"),
        ],
        ["It is sunny in Paris.", new FinishReason("stop")],
      ],
    });
    const { openai } = await serve([alpha]);
    const first = await openai.responses.create({
      model: "test-model",
      input: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weatherTool],
      tool_choice: "required",
      parallel_tool_calls: false,
      store: false,
    });
    const call = first.output[0];
    expect(call).toEqual({
      type: "function_call",
      id: expect.stringMatching(/^fc_/),
      call_id: "call_1",
      name: "get_weather",
      arguments: '{"city":"Paris"}',
      status: "completed",
    });
    expect(alpha.calls[0]?.options).toMatchObject({
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "The weather in a city",
            parameters: weatherTool.parameters,
            strict: true,
          },
        },
      ],
      toolChoice: "required",
      parallelToolCalls: false,
    });
    if (call?.type !== "function_call") throw new Error("expected a function call");
    const second = await openai.responses.create({
      model: "test-model",
      input: [
        { role: "user", content: "Weather in Paris?" },
        call,
        { type: "function_call_output", call_id: call.call_id, output: '{"sky":"sunny"}' },
      ],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe("It is sunny in Paris.");
    expect(alpha.calls[1]?.messages).toEqual([
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"sky":"sunny"}' },
    ]);
  });

  it("streams a function call as function_call_arguments deltas and done events", async () => {
    const alpha = capable({
      id: "alpha",
      script: [
        [
          new ToolCallDelta({ index: 0, id: "call_7", name: "get_weather" }),
          new ToolCallDelta({ index: 0, arguments: '{"city":' }),
          new ToolCallDelta({ index: 0, arguments: '"Oslo"}' }),
          new FinishReason("tool_calls"),
        ],
      ],
    });
    const { openai } = await serve([alpha]);
    const stream = openai.responses.stream({
      model: "test-model",
      input: "Oslo?",
      tools: [weatherTool],
    });
    const events: Record<string, unknown>[] = [];
    for await (const event of stream) events.push(event as unknown as Record<string, unknown>);
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events[5]).toMatchObject({
      name: "get_weather",
      arguments: '{"city":"Oslo"}',
      output_index: 0,
    });
    const final = await stream.finalResponse();
    expect(final.output[0]).toMatchObject({
      type: "function_call",
      call_id: "call_7",
      arguments: '{"city":"Oslo"}',
    });
  });

  it("streams parallel calls whose pieces the upstream interleaves, each by its output index", async () => {
    const alpha = capable({
      id: "alpha",
      script: [
        [
          new ToolCallDelta({ index: 0, id: "call_a", name: "get_weather" }),
          new ToolCallDelta({ index: 1, id: "call_b", name: "get_weather" }),
          new ToolCallDelta({ index: 0, arguments: '{"city":"Rome"}' }),
          new ToolCallDelta({ index: 1, arguments: '{"city":"Oslo"}' }),
        ],
      ],
    });
    const { openai } = await serve([alpha]);
    const stream = openai.responses.stream({
      model: "test-model",
      input: "Rome and Oslo?",
      tools: [weatherTool],
    });
    const events: Record<string, unknown>[] = [];
    for await (const event of stream) events.push(event as unknown as Record<string, unknown>);
    expect(events.map((event) => [event.type, event.output_index])).toEqual([
      ["response.created", undefined],
      ["response.in_progress", undefined],
      ["response.output_item.added", 0],
      ["response.output_item.added", 1],
      ["response.function_call_arguments.delta", 0],
      ["response.function_call_arguments.delta", 1],
      ["response.function_call_arguments.done", 0],
      ["response.output_item.done", 0],
      ["response.function_call_arguments.done", 1],
      ["response.output_item.done", 1],
      ["response.completed", undefined],
    ]);
    const final = await stream.finalResponse();
    expect(final.output).toMatchObject([
      { type: "function_call", call_id: "call_a", arguments: '{"city":"Rome"}' },
      { type: "function_call", call_id: "call_b", arguments: '{"city":"Oslo"}' },
    ]);
  });

  it("asks for JSON-schema output and returns the JSON text", async () => {
    const alpha = capable({
      id: "alpha",
      script: [['{"answer":', "42}", new FinishReason("stop")]],
    });
    const { openai } = await serve([alpha]);
    const schema = {
      type: "object",
      properties: { answer: { type: "number" } },
      required: ["answer"],
      additionalProperties: false,
    };
    const response = await openai.responses.create({
      model: "test-model",
      input: "The answer?",
      text: { format: { type: "json_schema", name: "answer", schema, strict: true } },
    });
    expect(JSON.parse(response.output_text)).toEqual({ answer: 42 });
    expect(response.text?.format).toEqual({
      type: "json_schema",
      name: "answer",
      schema,
      strict: true,
    });
    expect(alpha.calls[0]?.options.responseFormat).toEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema, strict: true },
    });
  });

  it("continues a conversation from previous_response_id, without the earlier instructions", async () => {
    const alpha = capable({ id: "alpha", script: [["I am Ada."], ["You asked who I am."]] });
    const { openai } = await serve([alpha]);
    const first = await openai.responses.create({
      model: "test-model",
      instructions: "Answer as Ada.",
      input: "Who are you?",
    });
    const second = await openai.responses.create({
      model: "test-model",
      previous_response_id: first.id,
      input: "What did I ask?",
    });
    expect(second.output_text).toBe("You asked who I am.");
    expect(second.previous_response_id).toBe(first.id);
    expect(alpha.calls[1]?.messages).toEqual([
      { role: "user", content: "Who are you?" },
      { role: "assistant", content: "I am Ada." },
      { role: "user", content: "What did I ask?" },
    ]);
    const retrieved = await openai.responses.retrieve(first.id);
    expect(retrieved.output_text).toBe("I am Ada.");
    expect(retrieved.id).toBe(first.id);
  });

  it("keeps nothing with store: false: GET is a 404 and previous_response_id a 400 naming it", async () => {
    const alpha = capable({ id: "alpha" });
    const { openai } = await serve([alpha]);
    const unstored = await openai.responses.create({
      model: "test-model",
      input: "Hi",
      store: false,
    });
    expect((unstored as unknown as { store: boolean }).store).toBe(false);
    await expect(openai.responses.retrieve(unstored.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const error = await openai.responses
      .create({ model: "test-model", input: "Again", previous_response_id: unstored.id })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(
      "previous_response_id",
    );
    expect((error as Error).message).toContain(
      `Previous response with id '${unstored.id}' not found`,
    );
    expect(alpha.calls).toHaveLength(1);
  });

  it("deletes a stored response, after which it is gone", async () => {
    const { openai } = await serve([capable({ id: "alpha" })]);
    const response = await openai.responses.create({ model: "test-model", input: "Hi" });
    await openai.responses.delete(response.id);
    await expect(openai.responses.retrieve(response.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    await expect(openai.responses.delete(response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("forgets the oldest response past responses.storeMaxEntries", async () => {
    const { openai } = await serve([capable({ id: "alpha" })], {
      responses: { storeMaxEntries: 1 },
    });
    const first = await openai.responses.create({ model: "test-model", input: "One" });
    const second = await openai.responses.create({ model: "test-model", input: "Two" });
    await expect(openai.responses.retrieve(first.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await openai.responses.retrieve(second.id)).id).toBe(second.id);
  });

  it("ends a stream that broke after content with response.failed carrying the output so far", async () => {
    const alpha = capable({
      id: "alpha",
      script: [
        [
          "Hel",
          {
            fail: new StreamInterruptedError({
              provider: "alpha",
              partialText: "Hel",
              message: "alpha: the stream was cut",
            }),
          },
        ],
      ],
    });
    const beta = capable({ id: "beta" });
    const { openai } = await serve([alpha, beta]);
    const stream = openai.responses.stream({ model: "test-model", input: "Hi" });
    const events: Record<string, unknown>[] = [];
    for await (const event of stream) events.push(event as unknown as Record<string, unknown>);
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.failed",
    ]);
    const failed = events.at(-1)?.response as {
      status: string;
      error: { code: string; message: string };
    };
    expect(failed.status).toBe("failed");
    expect(failed.error.code).toBe("server_error");
    expect(failed.error.message).toContain("failed after the answer had started");
    expect(beta.calls).toHaveLength(0);
    expect((await stream.finalResponse()).status).toBe("failed");
  });

  it("falls back before the commit point: a 503 from the first provider reaches nobody", async () => {
    const alpha = capable({
      id: "alpha",
      script: [
        [
          {
            fail: new ResponseStatusError({
              provider: "alpha",
              status: 503,
              message: "alpha: 503",
            }),
          },
        ],
      ],
    });
    const beta = capable({ id: "beta", script: [["From beta"]] });
    const { openai } = await serve([alpha, beta]);
    const stream = openai.responses.stream({ model: "test-model", input: "Hi" });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types[0]).toBe("response.created");
    expect((await stream.finalResponse()).output_text).toBe("From beta");
    const json = await openai.responses.create({ model: "test-model", input: "Hi" }).withResponse();
    expect(json.data.output_text).toBe("From beta");
    expect(json.response.headers.get("x-g4f-provider")).toBe("beta");
    expect(alpha.calls).toHaveLength(2);
  });

  it("counts its attempts and requests in the metrics, as chat's are", async () => {
    const alpha = capable({
      id: "alpha",
      script: [
        [
          {
            fail: new ResponseStatusError({
              provider: "alpha",
              status: 503,
              message: "alpha: 503",
            }),
          },
        ],
      ],
    });
    const beta = capable({ id: "beta", script: [["ok"]] });
    const { server, openai } = await serve([alpha, beta]);
    await openai.responses.create({ model: "test-model", input: "Hi" });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('g4f_attempts_total{provider="alpha",outcome="failure"} 1');
    expect(text).toContain('g4f_attempts_total{provider="beta",outcome="success"} 1');
    expect(text).toContain('g4f_requests_total{route="responses",status="200"} 1');
  });

  it("answers a reasoning item before the message, and a refusal as a refusal part", async () => {
    const alpha = capable({
      id: "alpha",
      script: [[new Reasoning("Think."), "Answer.", new Refusal("No more.")]],
    });
    const { openai } = await serve([alpha]);
    const stream = openai.responses.stream({
      model: "test-model",
      input: "Hi",
      reasoning: { effort: "high", summary: "auto" },
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toContain("response.reasoning_text.delta");
    expect(types).toContain("response.refusal.delta");
    const final = await stream.finalResponse();
    expect(final.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    expect(final.output[0]).toMatchObject({
      content: [{ type: "reasoning_text", text: "Think." }],
      summary: [{ type: "summary_text", text: "Think." }],
    });
    expect(final.output[1]).toMatchObject({
      content: [
        { type: "output_text", text: "Answer." },
        { type: "refusal", refusal: "No more." },
      ],
    });
  });

  it("says incomplete with max_output_tokens when the model stopped at the token limit", async () => {
    const alpha = capable({ id: "alpha", script: [["Half", new FinishReason("length")]] });
    const { openai } = await serve([alpha]);
    const response = await openai.responses.create({
      model: "test-model",
      input: "Hi",
      max_output_tokens: 1,
    });
    expect(response.status).toBe("incomplete");
    expect(response.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  it("marks usage as estimated when the provider reported none", async () => {
    const { openai } = await serve([capable({ id: "alpha", script: [["12345678"]] })]);
    const response = await openai.responses.create({ model: "test-model", input: "abcd" });
    expect(response.usage).toMatchObject({ output_tokens: 2, estimated: true });
  });

  it("sends max_output_tokens as max_tokens when a candidate only honours that", async () => {
    const plain = scriptedProvider({ id: "plain" });
    const { openai } = await serve([plain]);
    await openai.responses.create({ model: "test-model", input: "Hi", max_output_tokens: 9 });
    expect(plain.calls[0]?.options).toMatchObject({ maxTokens: 9 });
    expect(plain.calls[0]?.options).not.toHaveProperty("maxCompletionTokens");
  });
});

describe("POST /v1/responses refuses what it can not honour, naming the field", () => {
  it("drops a field under routing.unsupportedFields drop and names it in x-g4f-dropped-params", async () => {
    const plain = scriptedProvider({ id: "plain", script: [["ok"]] });
    const { openai } = await serve([plain], { routing: { unsupportedFields: "drop" } });
    const { data, response } = await openai.responses
      .create({
        model: "test-model",
        input: "Hi",
        text: { format: { type: "json_object" } },
      })
      .withResponse();
    expect(data.output_text).toBe("ok");
    expect(response.headers.get("x-g4f-dropped-params")).toBe("text.format");
    expect(plain.calls[0]?.options).not.toHaveProperty("responseFormat");
  });

  it("names text.format, not response_format, when no provider can honour a JSON schema", async () => {
    const { server } = await serve([scriptedProvider({ id: "plain" })]);
    const response = await post(server, "/v1/responses", {
      model: "test-model",
      input: "Hi",
      text: { format: { type: "json_schema", name: "x", schema: { type: "object" } } },
    });
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.param).toBe("text.format");
    expect(error.message).toMatch(/^text\.format: /);
  });

  it("answers an unknown field with 400 naming it", async () => {
    const { server } = await serve([capable({ id: "alpha" })]);
    const response = await post(server, "/v1/responses", {
      model: "test-model",
      input: "Hi",
      temprature: 1,
    });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({
      param: "temprature",
      code: "unknown_parameter",
    });
  });

  it("answers a tool type other than function with 400 naming it", async () => {
    const { server } = await serve([capable({ id: "alpha" })]);
    const response = await post(server, "/v1/responses", {
      model: "test-model",
      input: "Hi",
      tools: [{ type: "web_search" }],
    });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).param).toBe("tools.0.type");
  });

  it("answers 400 naming tools when no provider of the model supports tool calls", async () => {
    const plain = scriptedProvider({ id: "plain" });
    const { server } = await serve([plain]);
    const response = await post(server, "/v1/responses", {
      model: "test-model",
      input: "Hi",
      tools: [weatherTool],
    });
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.param).toBe("tools");
    expect(error.message).toContain("tool calls");
    expect(plain.calls).toHaveLength(0);
  });

  it("routes past a provider without tool support to one with it", async () => {
    const plain = scriptedProvider({ id: "plain" });
    const able = capable({ id: "able", script: [["ok"]] });
    const { openai } = await serve([plain, able]);
    const response = await openai.responses.create({
      model: "test-model",
      input: "Hi",
      tools: [weatherTool],
    });
    expect(response.output_text).toBe("ok");
    expect(plain.calls).toHaveLength(0);
  });

  it("answers background, conversation and an item type it does not know with 400 naming each", async () => {
    const { server } = await serve([capable({ id: "alpha" })]);
    const cases: [Record<string, unknown>, string][] = [
      [{ background: true }, "background"],
      [{ conversation: "conv_1" }, "conversation"],
      [{ include: ["reasoning.encrypted_content"] }, "include"],
      [{ input: [{ type: "web_search_call", id: "ws_1" }] }, "input.0.type"],
      [
        { input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }] },
        "input.0.content.0.file_id",
      ],
      [{ tool_choice: { type: "file_search" }, tools: [weatherTool] }, "tool_choice"],
    ];
    for (const [fields, param] of cases) {
      const response = await post(server, "/v1/responses", {
        model: "test-model",
        input: "Hi",
        ...fields,
      });
      expect(response.status, param).toBe(400);
      expect((await errorOf(response)).param).toBe(param);
    }
  });

  it("shows a stored response only to the API key that made it", async () => {
    const server = await startScriptedServer(
      [capable({ id: "alpha" })],
      { server: { apiKeys: [{ env: "KEY_A" }, { env: "KEY_B" }] } },
      { env: { KEY_A: "sk-a", KEY_B: "sk-b" } },
    );
    servers.push(server);
    const client = (apiKey: string) =>
      new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
    const made = await client("sk-a").responses.create({ model: "test-model", input: "Hi" });
    expect((await client("sk-a").responses.retrieve(made.id)).id).toBe(made.id);
    await expect(client("sk-b").responses.retrieve(made.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    await expect(
      client("sk-b").responses.create({
        model: "test-model",
        input: "Hi",
        previous_response_id: made.id,
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("answers an unknown response id with 404", async () => {
    const { server } = await serve([capable({ id: "alpha" })]);
    const response = await fetch(`${server.url}/v1/responses/resp_nothing`);
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe("response_not_found");
  });

  it("names the served endpoints in the 404 of /v1/completions", async () => {
    const { server } = await serve([capable({ id: "alpha" })]);
    const response = await post(server, "/v1/completions", { model: "test-model", prompt: "Hi" });
    expect(response.status).toBe(404);
    const error = await errorOf(response);
    expect(error.message).toContain("POST /v1/responses");
    expect(error.message).toContain("POST /v1/embeddings");
  });
});
