import { Agent, Runner, setTracingDisabled, tool } from "@openai/agents-core";
import { OpenAIProvider } from "@openai/agents-openai";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type RecordingUpstream,
  type SurfaceRegistry,
  startRecordingUpstream,
  startSurfaceRegistry,
} from "./__fixtures__/recording-upstream.js";

/*
 * The OpenAI Agents SDK, with its Responses model, then its Chat Completions
 * model, runs an agent with one tool to its final output against the registry,
 * which answers through an OpenAI-compatible provider on a recording upstream.
 * Pinned to 0.14.3, the last release on openai 6: 0.15+ needs openai 7, which
 * declares Node >= 22.
 */

let registry: SurfaceRegistry | undefined;
let upstream: RecordingUpstream | undefined;
afterEach(async () => {
  await registry?.close();
  await upstream?.close();
  registry = undefined;
  upstream = undefined;
});

// No trace may leave for OpenAI's servers (vitest's NODE_ENV=test already says so).
beforeAll(() => setTracingDisabled(true));

async function serveWeatherAgent() {
  upstream = await startRecordingUpstream((body, index) =>
    index === 0
      ? { toolCalls: [{ id: "call_w1", name: "get_weather", arguments: '{"city":"Lima"}' }] }
      : {
          content: `The weather in Lima: ${JSON.stringify((body.messages as { content: unknown }[]).at(-1)?.content)}`,
        },
  );
  registry = await startSurfaceRegistry([{ id: "one", upstream, models: ["gpt-4.1-mini"] }]);
  const calls: string[] = [];
  const getWeather = tool({
    name: "get_weather",
    description: "The weather in a city",
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push(city);
      return `sunny in ${city}`;
    },
  });
  const agent = new Agent({
    name: "Weather",
    instructions: "Answer with the weather.",
    model: "gpt-4.1-mini",
    tools: [getWeather],
  });
  return { agent, calls, baseURL: `${registry.server.url}/v1` };
}

describe("the OpenAI Agents SDK against the registry", () => {
  it("completes a run with one tool through the Responses API", async () => {
    const { agent, calls, baseURL } = await serveWeatherAgent();
    const runner = new Runner({
      modelProvider: new OpenAIProvider({ baseURL, apiKey: "sk-test", useResponses: true }),
    });
    const result = await runner.run(agent, "What is the weather in Lima?");
    expect(calls).toEqual(["Lima"]);
    expect(result.finalOutput).toBe('The weather in Lima: "sunny in Lima"');
    const bodies = upstream?.chatBodies() ?? [];
    expect(bodies).toHaveLength(2);
    expect(bodies[0]?.tools).toMatchObject([
      { type: "function", function: { name: "get_weather" } },
    ]);
    expect(bodies[1]?.messages).toMatchObject([
      { role: "system", content: "Answer with the weather." },
      { role: "user", content: "What is the weather in Lima?" },
      { role: "assistant", tool_calls: [{ id: "call_w1", function: { name: "get_weather" } }] },
      { role: "tool", tool_call_id: "call_w1", content: "sunny in Lima" },
    ]);
  });

  it("completes the same run streamed through the Responses API", async () => {
    const { agent, calls, baseURL } = await serveWeatherAgent();
    const runner = new Runner({
      modelProvider: new OpenAIProvider({ baseURL, apiKey: "sk-test", useResponses: true }),
    });
    const result = await runner.run(agent, "What is the weather in Lima?", { stream: true });
    for await (const _event of result) {
      // Read the run's events to its end.
    }
    await result.completed;
    expect(calls).toEqual(["Lima"]);
    expect(result.finalOutput).toBe('The weather in Lima: "sunny in Lima"');
  });

  it("completes the run through the Chat Completions API too", async () => {
    const { agent, calls, baseURL } = await serveWeatherAgent();
    const runner = new Runner({
      modelProvider: new OpenAIProvider({ baseURL, apiKey: "sk-test", useResponses: false }),
    });
    const result = await runner.run(agent, "What is the weather in Lima?");
    expect(calls).toEqual(["Lima"]);
    expect(result.finalOutput).toBe('The weather in Lima: "sunny in Lima"');
  });
});
