import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import {
  type RecordingUpstream,
  type SurfaceRegistry,
  startRecordingUpstream,
  startSurfaceRegistry,
  type UpstreamProviderOptions,
} from "./__fixtures__/recording-upstream.js";
import type { RegistryConfigInput } from "./config.js";

/*
 * The Responses API end to end: the official openai client against the registry,
 * the registry's OpenAI-compatible providers against recording upstreams, so each
 * test asserts on the chat body an upstream received as well as on what the
 * client got back.
 */

let registry: SurfaceRegistry | undefined;
const upstreams: RecordingUpstream[] = [];
afterEach(async () => {
  await registry?.close();
  registry = undefined;
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
});

async function upstream(
  ...script: Parameters<typeof startRecordingUpstream>
): Promise<RecordingUpstream> {
  const started = await startRecordingUpstream(...script);
  upstreams.push(started);
  return started;
}

async function serve(providers: UpstreamProviderOptions[], config: RegistryConfigInput = {}) {
  registry = await startSurfaceRegistry(providers, config);
  return new OpenAI({ baseURL: `${registry.server.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
}

const lookupTool = {
  type: "function" as const,
  name: "lookup",
  description: "Look a word up",
  parameters: {
    type: "object",
    properties: { word: { type: "string" } },
    required: ["word"],
    additionalProperties: false,
  },
  strict: true,
};

describe("the Responses API over an OpenAI-compatible upstream", () => {
  it("sends the conversation and every option as a chat request, and answers with its text", async () => {
    const one = await upstream({
      content: "Bonjour",
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    });
    const openai = await serve([{ id: "one", upstream: one }]);
    const response = await openai.responses.create({
      model: "gpt-4o-mini",
      instructions: "Answer in French.",
      input: [{ role: "user", content: [{ type: "input_text", text: "Hello" }] }],
      temperature: 0.2,
      top_p: 0.5,
      max_output_tokens: 64,
      reasoning: { effort: "minimal" },
      user: "u-9",
      text: { format: { type: "text" }, verbosity: "low" },
    });
    expect(response.output_text).toBe("Bonjour");
    expect(response.usage).toMatchObject({ input_tokens: 9, output_tokens: 2, total_tokens: 11 });
    expect(one.chatBodies()[0]).toMatchObject({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "Answer in French." },
        { role: "user", content: [{ type: "text", text: "Hello" }] },
      ],
      stream: true,
      temperature: 0.2,
      top_p: 0.5,
      max_completion_tokens: 64,
      reasoning_effort: "minimal",
      user: "u-9",
      verbosity: "low",
    });
    expect(one.chatBodies()[0]).not.toHaveProperty("response_format");
  });

  it("streams a tool call from the upstream as a function_call item, and sends its output back as a tool message", async () => {
    const one = await upstream((_body, index) =>
      index === 0
        ? { toolCalls: [{ id: "call_abc", name: "lookup", arguments: '{"word":"cat"}' }] }
        : { content: "A cat is an animal." },
    );
    const openai = await serve([{ id: "one", upstream: one }]);
    const stream = openai.responses.stream({
      model: "gpt-4o-mini",
      input: "What is a cat?",
      tools: [lookupTool],
      tool_choice: { type: "function", name: "lookup" },
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toContain("response.function_call_arguments.delta");
    const first = await stream.finalResponse();
    const call = first.output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({
      call_id: "call_abc",
      name: "lookup",
      arguments: '{"word":"cat"}',
    });
    expect(one.chatBodies()[0]).toMatchObject({
      tools: [
        {
          type: "function",
          function: {
            name: "lookup",
            description: "Look a word up",
            parameters: lookupTool.parameters,
            strict: true,
          },
        },
      ],
      tool_choice: { type: "function", function: { name: "lookup" } },
    });
    const second = await openai.responses.create({
      model: "gpt-4o-mini",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: "call_abc", output: "a small feline" }],
      tools: [lookupTool],
    });
    expect(second.output_text).toBe("A cat is an animal.");
    expect(one.chatBodies()[1]?.messages).toEqual([
      { role: "user", content: "What is a cat?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_abc",
            type: "function",
            function: { name: "lookup", arguments: '{"word":"cat"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_abc", content: "a small feline" },
    ]);
  });

  it("asks the upstream for JSON-schema output", async () => {
    const one = await upstream({ content: '{"ok":true}' });
    const openai = await serve([{ id: "one", upstream: one }]);
    const schema = {
      type: "object",
      properties: { ok: { type: "boolean" } },
      required: ["ok"],
      additionalProperties: false,
    };
    const response = await openai.responses.create({
      model: "gpt-4o-mini",
      input: "ok?",
      text: { format: { type: "json_schema", name: "ok", schema, strict: true } },
    });
    expect(JSON.parse(response.output_text)).toEqual({ ok: true });
    expect(one.chatBodies()[0]?.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "ok", schema, strict: true },
    });
  });

  it("falls back to the next upstream when the first answers 503 before any content", async () => {
    const failing = await upstream({ status: 503, message: "overloaded" });
    const two = await upstream({ content: "From two" });
    const openai = await serve([
      { id: "failing", upstream: failing, priority: 1 },
      { id: "two", upstream: two },
    ]);
    const stream = openai.responses.stream({ model: "gpt-4o-mini", input: "Hi" });
    for await (const _event of stream) {
      // Read to the end.
    }
    expect((await stream.finalResponse()).output_text).toBe("From two");
    expect(failing.chatBodies()).toHaveLength(1);
    expect(two.chatBodies()).toHaveLength(1);
  });

  it("returns a refusal from the upstream as a refusal part", async () => {
    const one = await upstream({ refusal: "I can not help with that." });
    const openai = await serve([{ id: "one", upstream: one }]);
    const response = await openai.responses.create({
      model: "gpt-4o-mini",
      input: "Something bad",
    });
    expect(response.output[0]).toMatchObject({
      type: "message",
      content: [{ type: "refusal", refusal: "I can not help with that." }],
    });
  });
});
