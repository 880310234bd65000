import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "../test-support/local-server.js";
import { frame } from "../test-support/openai-sse-frames.js";
import { closeDispatchers, sendRequest } from "./http-client.js";
import { readOpenAIChatResponse } from "./openai-chat-wire.js";
import { StreamInterruptedError } from "./provider-errors.js";
import {
  ChoiceChunk,
  type Chunk,
  FinishReason,
  Logprobs,
  Reasoning,
  Refusal,
  ResponseMetadata,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "./response-chunks.js";
import { ToolCallAssembler } from "./tool-call-assembler.js";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(closeDispatchers);

type Ending = "end" | "cut";

/** Serve `body` once with `contentType` (ended, or cut by destroying the socket), and read it. */
async function read(
  contentType: string,
  body: string,
  ending: Ending = "end",
): Promise<{ chunks: Chunk[]; error: unknown }> {
  server = await startLocalServer((_request, response) => {
    response.writeHead(200, { "content-type": contentType });
    if (ending === "end") response.end(body);
    else response.write(body, () => response.socket?.destroy());
  });
  const response = await sendRequest({ provider: "Example", url: server.url, json: {} });
  const chunks: Chunk[] = [];
  try {
    for await (const chunk of readOpenAIChatResponse(response, { provider: "Example" }))
      chunks.push(chunk);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

const done = "data: [DONE]\n\n";

async function stream(events: unknown[], ending: "done" | "end" | "cut" = "done") {
  const body = events.map(frame).join("") + (ending === "done" ? done : "");
  return read("text/event-stream", body, ending === "cut" ? "cut" : "end");
}

async function json(completion: unknown) {
  return read("application/json", JSON.stringify(completion));
}

/** Chunks without the metadata, which most tests do not look at. */
function answerChunks(chunks: Chunk[]): Chunk[] {
  return chunks.filter((chunk) => !(chunk instanceof ResponseMetadata));
}

const toolEvents = [
  {
    choices: [
      {
        index: 0,
        delta: {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              index: 0,
              id: "call_a",
              type: "function",
              function: { name: "get_weather", arguments: "" },
            },
          ],
        },
      },
    ],
  },
  {
    choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] } }],
  },
  {
    choices: [
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] } },
    ],
  },
  {
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              index: 1,
              id: "call_b",
              type: "function",
              function: { name: "get_time", arguments: "{}" },
            },
          ],
        },
      },
    ],
  },
  { choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
];

describe("tool calls", () => {
  it("streams each delta.tool_calls piece as a ToolCallDelta with its index, id, name and argument piece", async () => {
    const { chunks, error } = await stream(toolEvents);
    expect(error).toBeUndefined();
    const pieces = chunks.filter((chunk) => chunk instanceof ToolCallDelta);
    expect(
      pieces.map(({ index, id, name, arguments: text }) => ({ index, id, name, text })),
    ).toEqual([
      { index: 0, id: "call_a", name: "get_weather", text: "" },
      { index: 0, id: undefined, name: undefined, text: '{"ci' },
      { index: 0, id: undefined, name: undefined, text: 'ty":"Oslo"}' },
      { index: 1, id: "call_b", name: "get_time", text: "{}" },
    ]);
    expect((chunks.at(-1) as FinishReason).reason).toBe("tool_calls");
    const calls = new ToolCallAssembler();
    for (const chunk of chunks) calls.add(chunk);
    expect(calls.toolCalls()).toEqual([
      {
        id: "call_a",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
      },
      { id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } },
    ]);
  });

  it("takes a piece's position for its index when the upstream sends none, and skips empty pieces", async () => {
    const { chunks } = await stream([
      {
        choices: [
          {
            delta: {
              tool_calls: [
                { id: "first", function: { name: "a", arguments: "{}" } },
                { id: "second", function: { name: "b", arguments: "{}" } },
              ],
            },
          },
        ],
      },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: "" } }] } }] },
      { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
    ]);
    const pieces = chunks.filter((chunk) => chunk instanceof ToolCallDelta);
    expect(pieces.map((piece) => [piece.index, piece.id])).toEqual([
      [0, "first"],
      [1, "second"],
    ]);
  });

  it("streams the legacy delta.function_call as tool-call pieces marked legacyFunctionCall", async () => {
    const { chunks } = await stream([
      { choices: [{ delta: { function_call: { name: "lookup", arguments: "" } } }] },
      { choices: [{ delta: { function_call: { arguments: '{"q":1}' } } }] },
      { choices: [{ delta: {}, finish_reason: "function_call" }] },
    ]);
    const pieces = chunks.filter((chunk) => chunk instanceof ToolCallDelta);
    expect(
      pieces.map((piece) => [piece.index, piece.name, piece.arguments, piece.legacyFunctionCall]),
    ).toEqual([
      [0, "lookup", "", true],
      [0, undefined, '{"q":1}', true],
    ]);
    expect((chunks.at(-1) as FinishReason).reason).toBe("function_call");
  });

  it("reads a JSON message's tool_calls as one ToolCalls, an object of arguments as its JSON text, a missing id made up", async () => {
    const { chunks, error } = await json({
      choices: [
        {
          message: {
            role: "assistant",
            content: null,
            tool_calls: [
              {
                id: "call_a",
                type: "function",
                function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
              },
              { type: "function", function: { name: "get_time", arguments: { zone: "UTC" } } },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
    expect(error).toBeUndefined();
    const [calls, finish] = answerChunks(chunks);
    expect(calls).toBeInstanceOf(ToolCalls);
    const [first, second] = (calls as ToolCalls).calls;
    expect(first).toEqual({
      id: "call_a",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
    });
    expect(second?.id).toMatch(/^call_[0-9a-f]{32}$/);
    expect(second?.function).toEqual({ name: "get_time", arguments: '{"zone":"UTC"}' });
    expect((finish as FinishReason).reason).toBe("tool_calls");
  });

  it("reads a JSON message's legacy function_call as one piece marked legacyFunctionCall", async () => {
    const { chunks } = await json({
      choices: [
        {
          message: { content: null, function_call: { name: "lookup", arguments: '{"q":1}' } },
          finish_reason: "function_call",
        },
      ],
    });
    const [piece] = answerChunks(chunks);
    expect(piece).toBeInstanceOf(ToolCallDelta);
    expect(piece).toMatchObject({
      index: 0,
      name: "lookup",
      arguments: '{"q":1}',
      legacyFunctionCall: true,
    });
  });
});

describe("refusals", () => {
  it("streams delta.refusal pieces as Refusal chunks", async () => {
    const { chunks, error } = await stream([
      { choices: [{ delta: { role: "assistant", content: null, refusal: "" } }] },
      { choices: [{ delta: { refusal: "I can't " } }] },
      { choices: [{ delta: { refusal: "help with that." } }] },
      { choices: [{ delta: {}, finish_reason: "stop" }] },
    ]);
    expect(error).toBeUndefined();
    expect(
      answerChunks(chunks).map((chunk) => (chunk instanceof Refusal ? chunk.text : chunk)),
    ).toEqual(["I can't ", "help with that.", expect.any(FinishReason)]);
  });

  it("reads a JSON message's refusal as a Refusal beside a null content", async () => {
    const { chunks } = await json({
      choices: [{ message: { content: null, refusal: "No." }, finish_reason: "stop" }],
    });
    const [refusal, finish] = answerChunks(chunks);
    expect((refusal as Refusal).text).toBe("No.");
    expect((finish as FinishReason).reason).toBe("stop");
  });
});

const tokenLogprob = { token: "Hi", logprob: -0.1, bytes: [72, 105], top_logprobs: [] };

describe("log probabilities", () => {
  it("streams a choice's logprobs after the delta they belong to", async () => {
    const { chunks } = await stream([
      {
        choices: [
          { delta: { content: "Hi" }, logprobs: { content: [tokenLogprob], refusal: null } },
        ],
      },
      { choices: [{ delta: {}, logprobs: null, finish_reason: "stop" }] },
    ]);
    const [text, logprobs, finish] = answerChunks(chunks);
    expect(text).toBe("Hi");
    expect(logprobs).toBeInstanceOf(Logprobs);
    expect((logprobs as Logprobs).content).toEqual([tokenLogprob]);
    expect((logprobs as Logprobs).refusal).toBeNull();
    expect(finish).toBeInstanceOf(FinishReason);
  });

  it("reads a JSON choice's logprobs, refusal tokens included, and passes over the legacy completions shape", async () => {
    const refusalToken = { token: "No", logprob: -0.2, bytes: [78, 111], top_logprobs: [] };
    const { chunks } = await json({
      choices: [
        {
          message: { content: "Hi" },
          logprobs: { content: [tokenLogprob], refusal: [refusalToken] },
          finish_reason: "stop",
        },
        {
          index: 1,
          text: "Yo",
          logprobs: { tokens: ["Yo"], token_logprobs: [-0.3] },
          finish_reason: "stop",
        },
      ],
    });
    const logprobs = chunks.filter((chunk) => chunk instanceof Logprobs);
    expect(logprobs).toHaveLength(1);
    expect(logprobs[0]?.content).toEqual([tokenLogprob]);
    expect(logprobs[0]?.refusal).toEqual([refusalToken]);
  });
});

const usage = {
  prompt_tokens: 12,
  completion_tokens: 30,
  total_tokens: 42,
  prompt_tokens_details: { cached_tokens: 8, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 20, accepted_prediction_tokens: 0 },
  prompt_cache_hit_tokens: 8,
  cost: 0.0012,
};

describe("usage", () => {
  it("keeps a stream's token details and the upstream's other usage keys", async () => {
    const { chunks } = await stream([
      { choices: [{ delta: { content: "Hi" }, finish_reason: "stop" }] },
      { choices: [], usage },
    ]);
    const counted = chunks.find((chunk) => chunk instanceof Usage);
    expect(counted).toMatchObject({
      promptTokens: 12,
      completionTokens: 30,
      totalTokens: 42,
      promptTokensDetails: { cached_tokens: 8, audio_tokens: 0 },
      completionTokensDetails: { reasoning_tokens: 20, accepted_prediction_tokens: 0 },
      estimated: false,
      extra: { prompt_cache_hit_tokens: 8, cost: 0.0012 },
    });
  });

  it("keeps a JSON answer's token details, and has no extra when the upstream sent only counts", async () => {
    const { chunks } = await json({
      choices: [{ message: { content: "Hi" }, finish_reason: "stop" }],
      usage: {
        prompt_tokens: 1,
        completion_tokens: 2,
        total_tokens: 3,
        prompt_tokens_details: null,
      },
    });
    const counted = chunks.at(-1) as Usage;
    expect(counted).toBeInstanceOf(Usage);
    expect(counted.totalTokens).toBe(3);
    expect(counted.promptTokensDetails).toBeUndefined();
    expect(counted.extra).toBeUndefined();
  });
});

describe("response metadata", () => {
  const facts = {
    id: "chatcmpl-1",
    model: "gpt-4o-2024-08-06",
    system_fingerprint: "fp_1",
    service_tier: "default",
  };

  it("comes first in a stream, once, and again when a fact changes", async () => {
    const { chunks } = await stream([
      { ...facts, choices: [{ delta: { content: "a" } }] },
      { ...facts, choices: [{ delta: { content: "b" } }] },
      { ...facts, system_fingerprint: "fp_2", choices: [{ delta: {}, finish_reason: "stop" }] },
      { ...facts, system_fingerprint: "fp_2", choices: [], usage: { total_tokens: 2 } },
    ]);
    const metadata = chunks.filter((chunk) => chunk instanceof ResponseMetadata);
    expect(chunks[0]).toBeInstanceOf(ResponseMetadata);
    const expected = { id: "chatcmpl-1", model: "gpt-4o-2024-08-06", serviceTier: "default" };
    expect(metadata).toEqual([
      new ResponseMetadata({ ...expected, systemFingerprint: "fp_1" }),
      new ResponseMetadata({ ...expected, systemFingerprint: "fp_2" }),
    ]);
  });

  it("comes first in a JSON answer", async () => {
    const { chunks } = await json({
      ...facts,
      choices: [{ message: { content: "Hi" }, finish_reason: "stop" }],
    });
    expect(chunks[0]).toMatchObject({
      id: "chatcmpl-1",
      systemFingerprint: "fp_1",
      serviceTier: "default",
    });
    expect(chunks[1]).toBe("Hi");
  });

  it("takes an empty id or model for none, as Azure's first chunk sends them", async () => {
    const { chunks } = await stream([
      { id: "", model: "", choices: [], prompt_filter_results: [] },
      { ...facts, choices: [{ delta: { content: "Hi" }, finish_reason: "stop" }] },
    ]);
    expect(chunks.filter((chunk) => chunk instanceof ResponseMetadata)).toEqual([
      new ResponseMetadata({
        id: "chatcmpl-1",
        model: "gpt-4o-2024-08-06",
        systemFingerprint: "fp_1",
        serviceTier: "default",
      }),
    ]);
  });

  it("is not made when the upstream names none of the facts", async () => {
    const { chunks } = await stream([
      { choices: [{ delta: { content: "Hi" }, finish_reason: "stop" }] },
    ]);
    expect(chunks.some((chunk) => chunk instanceof ResponseMetadata)).toBe(false);
  });
});

describe("several choices", () => {
  it("yields choice 0 bare and wraps each other choice's chunks with its index, each with its finish reason", async () => {
    const { chunks, error } = await stream([
      {
        choices: [
          { index: 0, delta: { content: "one" } },
          { index: 1, delta: { content: "two" } },
        ],
      },
      { choices: [{ index: 2, delta: { refusal: "no" } }] },
      { choices: [{ index: 1, delta: {}, finish_reason: "length" }] },
      {
        choices: [
          { index: 0, delta: {}, finish_reason: "stop" },
          { index: 2, delta: {}, finish_reason: "stop" },
        ],
      },
    ]);
    expect(error).toBeUndefined();
    const described = chunks.map((chunk) => {
      const [index, inner] = chunk instanceof ChoiceChunk ? [chunk.index, chunk.chunk] : [0, chunk];
      if (inner instanceof FinishReason) return `${index}:finish ${inner.reason}`;
      if (inner instanceof Refusal) return `${index}:refusal ${inner.text}`;
      return `${index}:${String(inner)}`;
    });
    expect(described).toEqual([
      "0:one",
      "1:two",
      "2:refusal no",
      "1:finish length",
      "0:finish stop",
      "2:finish stop",
    ]);
  });

  it("reads each choice of a JSON answer by its index", async () => {
    const { chunks } = await json({
      choices: [
        { index: 0, message: { content: "one" }, finish_reason: "stop" },
        { index: 1, message: { content: "two", reasoning_content: "hm" }, finish_reason: "stop" },
      ],
    });
    expect(chunks[0]).toBe("one");
    expect(chunks[2]).toEqual(new ChoiceChunk(1, new Reasoning("hm")));
    expect(chunks[3]).toEqual(new ChoiceChunk(1, "two"));
    expect((chunks[4] as ChoiceChunk).chunk).toEqual(new FinishReason("stop"));
  });
});

describe("a stream cut short", () => {
  it("is a StreamInterruptedError after tool-call pieces, though no text arrived", async () => {
    const { chunks, error } = await stream(toolEvents.slice(0, 2), "end");
    expect(chunks.filter((chunk) => chunk instanceof ToolCallDelta)).toHaveLength(2);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).receivedCharacters).toBe("get_weather".length + 4);
  });

  it("is a StreamInterruptedError after a refusal, also when the socket breaks", async () => {
    const events = [{ choices: [{ delta: { refusal: "I can't" } }] }];
    expect((await stream(events, "end")).error).toBeInstanceOf(StreamInterruptedError);
    expect((await stream(events, "cut")).error).toBeInstanceOf(StreamInterruptedError);
  });

  it("is a StreamInterruptedError after reasoning alone", async () => {
    const { error } = await stream(
      [{ choices: [{ delta: { reasoning_content: "Let me think" } }] }],
      "end",
    );
    expect(error).toBeInstanceOf(StreamInterruptedError);
  });

  it("is a StreamInterruptedError when one choice finished and another did not", async () => {
    const { error } = await stream(
      [
        {
          choices: [
            { index: 0, delta: { content: "one" } },
            { index: 1, delta: { content: "two" } },
          ],
        },
        { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      ],
      "end",
    );
    expect(error).toBeInstanceOf(StreamInterruptedError);
  });

  it("is complete when every choice with content finished, without [DONE]", async () => {
    const { error } = await stream(
      [
        {
          choices: [
            { index: 0, delta: { content: "one" } },
            { index: 40, delta: { content: "two" } },
          ],
        },
        {
          choices: [
            { index: 40, delta: {}, finish_reason: "stop" },
            { index: 0, delta: {}, finish_reason: "stop" },
          ],
        },
      ],
      "end",
    );
    expect(error).toBeUndefined();
  });

  it("is complete after a finished tool call without [DONE]", async () => {
    const { error } = await stream(toolEvents, "end");
    expect(error).toBeUndefined();
  });
});
