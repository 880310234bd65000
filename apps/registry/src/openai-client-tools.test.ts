import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import {
  startRecordingUpstream,
  startSurfaceRegistry,
  type UpstreamAnswer,
} from "./__fixtures__/recording-upstream.js";

/*
 * The official `openai` client against the registry, in front of an
 * OpenAI-compatible provider whose fake upstream records every body: the stream
 * helper and the `runTools()` loop, tool results and all.
 */

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

async function setUp(script: (body: Record<string, unknown>) => UpstreamAnswer) {
  const upstream = await startRecordingUpstream(script);
  opened.push(upstream);
  const registry = await startSurfaceRegistry([{ id: "openai", upstream }]);
  opened.push(registry);
  const openai = new OpenAI({
    baseURL: `${registry.server.url}/v1`,
    apiKey: "unused",
    maxRetries: 0,
  });
  return { upstream, registry, openai };
}

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "The weather of a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    },
    strict: true,
  },
};

type WireMessage = { role: string; content?: unknown; tool_call_id?: string; tool_calls?: unknown };

/** A tool call first; once the conversation holds the tool's result, an answer that quotes it. */
function weatherAgent(body: Record<string, unknown>): UpstreamAnswer {
  const messages = body.messages as WireMessage[];
  const result = messages.find((message) => message.role === "tool");
  if (result === undefined)
    return {
      toolCalls: [{ id: "call_weather_1", name: "get_weather", arguments: '{"city":"Paris"}' }],
      systemFingerprint: "fp_tools",
      usage: {
        prompt_tokens: 30,
        completion_tokens: 9,
        total_tokens: 39,
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    };
  return {
    content: `The weather: ${String(result.content)}`,
    usage: { prompt_tokens: 50, completion_tokens: 6, total_tokens: 56 },
  };
}

describe("the openai client with tools, through the registry", () => {
  it("streams a tool call with chat.completions.stream() and gets it whole in the final completion", async () => {
    const { openai, upstream } = await setUp(weatherAgent);
    const stream = openai.chat.completions.stream({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weatherTool],
      tool_choice: "required",
      parallel_tool_calls: false,
      stream_options: { include_usage: true },
    });
    const argumentsDone: string[] = [];
    stream.on("tool_calls.function.arguments.done", (event) => argumentsDone.push(event.arguments));
    const completion = await stream.finalChatCompletion();
    expect(argumentsDone).toEqual(['{"city":"Paris"}']);
    expect(completion.choices[0]?.message.tool_calls).toEqual([
      {
        id: "call_weather_1",
        type: "function",
        function: {
          name: "get_weather",
          arguments: '{"city":"Paris"}',
          parsed_arguments: { city: "Paris" },
        },
      },
    ]);
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(completion.system_fingerprint).toBe("fp_tools");
    expect(completion.usage).toEqual({
      prompt_tokens: 30,
      completion_tokens: 9,
      total_tokens: 39,
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    const [sent] = upstream.chatBodies();
    expect(sent).toMatchObject({
      tools: [weatherTool],
      tool_choice: "required",
      parallel_tool_calls: false,
    });
  });

  it("runs the runTools() loop: the tool result message reaches the upstream and the answer comes back", async () => {
    const { openai, upstream } = await setUp(weatherAgent);
    const calls: unknown[] = [];
    const runner = openai.chat.completions.runTools({
      model: "gpt-4o-mini",
      messages: [
        { role: "developer", content: "Answer briefly." },
        { role: "user", content: "Weather in Paris?" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: weatherTool.function.description,
            parameters: weatherTool.function.parameters,
            parse: JSON.parse,
            function: (input: { city: string }) => {
              calls.push(input);
              return `sunny in ${input.city}`;
            },
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe("The weather: sunny in Paris");
    expect(calls).toEqual([{ city: "Paris" }]);
    const bodies = upstream.chatBodies();
    expect(bodies).toHaveLength(2);
    expect(bodies[1]?.messages).toEqual([
      { role: "developer", content: "Answer briefly." },
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_weather_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_weather_1", content: "sunny in Paris" },
    ]);
  });

  it("runs the streaming runTools() loop as well", async () => {
    const { openai, upstream } = await setUp(weatherAgent);
    const runner = openai.chat.completions.runTools({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: weatherTool.function.description,
            parameters: weatherTool.function.parameters,
            parse: JSON.parse,
            function: (input: { city: string }) => `rainy in ${input.city}`,
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe("The weather: rainy in Paris");
    expect(upstream.chatBodies()[1]?.messages).toContainEqual({
      role: "tool",
      tool_call_id: "call_weather_1",
      content: "rainy in Paris",
    });
  });

  it("gets a refusal as message.refusal, streamed and not", async () => {
    const { openai } = await setUp(() => ({ refusal: "I can't help with that." }));
    const completion = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Something bad" }],
    });
    expect(completion.choices[0]?.message).toMatchObject({
      content: null,
      refusal: "I can't help with that.",
    });
    const final = await openai.chat.completions
      .stream({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Something bad" }] })
      .finalChatCompletion();
    expect(final.choices[0]?.message.refusal).toBe("I can't help with that.");
  });

  it("gets a content_filter answer without text as a completion, not an error", async () => {
    const { openai, registry } = await setUp(() => ({ finishReason: "content_filter" }));
    const completion = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Something filtered" }],
    });
    expect(completion.choices[0]?.finish_reason).toBe("content_filter");
    const final = await openai.chat.completions
      .stream({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Something filtered" }] })
      .finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe("content_filter");
    expect(registry.server.registry.describeProviders()[0]?.health.failures).toBe(0);
  });
});
