import {
  AIMessage,
  type AIMessageChunk,
  HumanMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { afterEach, describe, expect, it } from "vitest";
import {
  startRecordingUpstream,
  startSurfaceRegistry,
  type UpstreamAnswer,
} from "./__fixtures__/recording-upstream.js";

/*
 * LangChain's `ChatOpenAI` (`@langchain/openai`) against the registry, in front
 * of an OpenAI-compatible provider whose fake upstream records every body:
 * `bindTools()` with `invoke` and `stream`, and the tool result of the next turn.
 */

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

type WireMessage = { role: string; content?: unknown };

function lookup(body: Record<string, unknown>): UpstreamAnswer {
  const result = (body.messages as WireMessage[]).find((message) => message.role === "tool");
  if (result === undefined)
    return {
      toolCalls: [{ id: "call_lc_1", name: "lookup", arguments: '{"query":"g4f"}' }],
      usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
    };
  return { content: `Found: ${String(result.content)}` };
}

async function setUp() {
  const upstream = await startRecordingUpstream(lookup);
  opened.push(upstream);
  const registry = await startSurfaceRegistry([{ id: "openai", upstream }]);
  opened.push(registry);
  const chat = new ChatOpenAI({
    model: "gpt-4o-mini",
    apiKey: "unused",
    maxRetries: 0,
    configuration: { baseURL: `${registry.server.url}/v1` },
  });
  return { upstream, chat };
}

const lookupTool = {
  type: "function" as const,
  function: {
    name: "lookup",
    description: "Look a word up",
    parameters: {
      type: "object",
      properties: { query: { type: "string" } },
      required: ["query"],
    },
  },
};

describe("LangChain ChatOpenAI through the registry", () => {
  it("bindTools(): invoke gets the tool call, and the tool result of the next turn reaches the upstream", async () => {
    const { upstream, chat } = await setUp();
    const withTools = chat.bindTools([lookupTool], { tool_choice: "auto" });
    const question = new HumanMessage("What is g4f?");
    const first = await withTools.invoke([question]);
    expect(first.tool_calls).toEqual([
      { id: "call_lc_1", name: "lookup", args: { query: "g4f" }, type: "tool_call" },
    ]);
    expect(first.usage_metadata).toMatchObject({
      input_tokens: 12,
      output_tokens: 4,
      total_tokens: 16,
    });
    const second = await withTools.invoke([
      question,
      new AIMessage({ content: "", tool_calls: first.tool_calls ?? [] }),
      new ToolMessage({ tool_call_id: "call_lc_1", content: "a multi-provider router" }),
    ]);
    expect(second.content).toBe("Found: a multi-provider router");
    const bodies = upstream.chatBodies();
    expect(bodies[0]).toMatchObject({ tools: [lookupTool], tool_choice: "auto" });
    expect(bodies[1]?.messages).toContainEqual({
      role: "tool",
      tool_call_id: "call_lc_1",
      content: "a multi-provider router",
    });
    expect(bodies[1]?.messages).toContainEqual(
      expect.objectContaining({
        role: "assistant",
        tool_calls: [
          {
            id: "call_lc_1",
            type: "function",
            function: { name: "lookup", arguments: '{"query":"g4f"}' },
          },
        ],
      }),
    );
  });

  it("bindTools(): stream joins the tool-call pieces into the same call", async () => {
    const { chat } = await setUp();
    const withTools = chat.bindTools([lookupTool]);
    let joined: AIMessageChunk | undefined;
    for await (const chunk of await withTools.stream([new HumanMessage("What is g4f?")]))
      joined = joined === undefined ? chunk : joined.concat(chunk);
    expect(joined?.tool_calls).toEqual([
      { id: "call_lc_1", name: "lookup", args: { query: "g4f" }, type: "tool_call" },
    ]);
  });
});
