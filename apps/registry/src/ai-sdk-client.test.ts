import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, jsonSchema, Output, stepCountIs, streamText, tool } from "ai";
import { afterEach, describe, expect, it } from "vitest";
import {
  startRecordingUpstream,
  startSurfaceRegistry,
  type UpstreamAnswer,
} from "./__fixtures__/recording-upstream.js";

/*
 * The Vercel AI SDK (`ai` 6 with `@ai-sdk/openai-compatible`) against the
 * registry, in front of an OpenAI-compatible provider whose fake upstream records
 * every body: tools over several steps and structured output with `Output.object`.
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
  const provider = createOpenAICompatible({
    name: "g4f",
    baseURL: `${registry.server.url}/v1`,
    apiKey: "unused",
    includeUsage: true,
    supportsStructuredOutputs: true,
  });
  return { upstream, model: provider.chatModel("gpt-4o-mini") };
}

const forecastSchema = jsonSchema<{ city: string; weather: string }>({
  type: "object",
  properties: { city: { type: "string" }, weather: { type: "string" } },
  required: ["city", "weather"],
  additionalProperties: false,
});

type WireMessage = { role: string; content?: unknown };

/** A tool call first; once the tool's result is in the conversation, a JSON forecast that uses it. */
function forecaster(body: Record<string, unknown>): UpstreamAnswer {
  const result = (body.messages as WireMessage[]).find((message) => message.role === "tool");
  if (result === undefined)
    return {
      toolCalls: [{ id: "call_ai_1", name: "weather", arguments: '{"city":"Paris"}' }],
      usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
    };
  return {
    content: JSON.stringify({ city: "Paris", weather: String(result.content) }),
    usage: {
      prompt_tokens: 40,
      completion_tokens: 12,
      total_tokens: 52,
      prompt_tokens_details: { cached_tokens: 16 },
    },
  };
}

const weather = tool({
  description: "The weather of a city",
  inputSchema: jsonSchema<{ city: string }>({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  }),
  execute: async ({ city }) => (city === "Paris" ? "sunny" : "unknown"),
});

describe("the AI SDK through the registry", () => {
  it("generateText calls a tool, sends its result back, and reads the Output.object answer", async () => {
    const { upstream, model } = await setUp(forecaster);
    const result = await generateText({
      model,
      tools: { weather },
      stopWhen: stepCountIs(3),
      output: Output.object({ schema: forecastSchema }),
      prompt: "Weather in Paris?",
      seed: 42,
      stopSequences: ["END"],
    });
    expect(result.output).toEqual({ city: "Paris", weather: "sunny" });
    expect(result.steps[0]?.toolCalls).toMatchObject([
      { toolCallId: "call_ai_1", toolName: "weather", input: { city: "Paris" } },
    ]);
    expect(result.steps[0]?.finishReason).toBe("tool-calls");
    expect(result.steps[1]?.usage.cachedInputTokens).toBe(16);
    const bodies = upstream.chatBodies();
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toMatchObject({
      seed: 42,
      stop: ["END"],
      tools: [
        {
          type: "function",
          function: { name: "weather", description: "The weather of a city" },
        },
      ],
      response_format: {
        type: "json_schema",
        json_schema: { schema: { required: ["city", "weather"] } },
      },
    });
    expect(bodies[1]?.messages).toContainEqual({
      role: "tool",
      tool_call_id: "call_ai_1",
      content: "sunny",
    });
  });

  it("streamText streams the tool call and the structured answer", async () => {
    const { upstream, model } = await setUp(forecaster);
    const result = streamText({
      model,
      tools: { weather },
      stopWhen: stepCountIs(3),
      output: Output.object({ schema: forecastSchema }),
      prompt: "Weather in Paris?",
    });
    const toolCalls: unknown[] = [];
    for await (const part of result.fullStream) {
      if (part.type === "tool-call") toolCalls.push({ id: part.toolCallId, input: part.input });
      if (part.type === "error") throw part.error;
    }
    expect(toolCalls).toEqual([{ id: "call_ai_1", input: { city: "Paris" } }]);
    expect(await result.output).toEqual({ city: "Paris", weather: "sunny" });
    expect((await result.steps)[0]?.finishReason).toBe("tool-calls");
    expect(upstream.chatBodies()).toHaveLength(2);
    expect(upstream.chatBodies()[0]).toMatchObject({ stream: true });
  });
});
