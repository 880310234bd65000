import type { ServerResponse } from "node:http";
import { OpenAICompatible } from "@g4f-ts/provider-openai-compatible";
import {
  type RecordedRequest,
  sendJson,
  type TestServer,
  type TestServerHandler,
} from "@g4f-ts/testkit";
import { describe, expect, it } from "vitest";
import { openAIClientRegistries } from "../test-support/openai-client-registry.js";

/*
 * `responsesApi: "native"`: the registry forwards `/v1/responses` unchanged to an
 * upstream that serves the Responses API itself, with fallback before the first
 * byte, and passes the answer on as it came.
 */

const { upstream, serve } = openAIClientRegistries();

function responseObject(model: string, text: string): Record<string, unknown> {
  return {
    id: "resp_upstream_1",
    object: "response",
    created_at: 1_767_000_000,
    status: "completed",
    error: null,
    incomplete_details: null,
    instructions: null,
    metadata: {},
    model,
    output: [
      {
        type: "message",
        id: "msg_upstream_1",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text, annotations: [] }],
      },
    ],
    parallel_tool_calls: true,
    temperature: 1,
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    usage: {
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 5,
    },
  };
}

function sseEvents(model: string, text: string): string {
  const completed = responseObject(model, text);
  const created = { ...completed, status: "in_progress", output: [], usage: null };
  const item = (completed.output as Record<string, unknown>[])[0];
  const events = [
    { type: "response.created", response: created },
    { type: "response.in_progress", response: created },
    { type: "response.output_item.added", output_index: 0, item: { ...item, content: [] } },
    {
      type: "response.content_part.added",
      item_id: "msg_upstream_1",
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    },
    {
      type: "response.output_text.delta",
      item_id: "msg_upstream_1",
      output_index: 0,
      content_index: 0,
      delta: text,
      logprobs: [],
    },
    { type: "response.output_item.done", output_index: 0, item },
    { type: "response.completed", response: completed },
  ];
  return events
    .map(
      (event, index) =>
        `event: ${event.type}\ndata: ${JSON.stringify({ ...event, sequence_number: index })}\n\n`,
    )
    .join("");
}

/** An upstream with its own `/v1/responses`, answering `text` (as SSE when asked to stream). */
function responsesUpstream(text: string): TestServerHandler {
  return (request: RecordedRequest, response: ServerResponse) => {
    const body = request.json as { model: string; stream?: boolean };
    if (request.path !== "/v1/responses") {
      sendJson(response, 404, { error: { message: "no such route" } });
      return;
    }
    if (body.stream === true) {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(sseEvents(body.model, text));
      return;
    }
    sendJson(response, 200, responseObject(body.model, text));
  };
}

function native(id: string, server: TestServer): OpenAICompatible {
  return new OpenAICompatible({
    id,
    baseUrl: `${server.url}/v1`,
    models: ["gpt-5-mini"],
    modelAliases: { mini: "gpt-5-mini" },
    responsesApi: "native",
    retry: { maxAttempts: 1 },
  });
}

describe('/v1/responses with responsesApi: "native"', () => {
  it("forwards the request unchanged, but for the upstream's model id, and passes the answer on", async () => {
    const one = await upstream(responsesUpstream("Native hello"));
    const { openai } = await serve([native("one", one)]);
    const { data, response } = await openai.responses
      .create({
        model: "mini",
        input: "Hi",
        include: ["reasoning.encrypted_content"],
        tools: [{ type: "web_search" }],
        store: false,
      })
      .withResponse();
    expect(response.headers.get("x-g4f-provider")).toBe("one");
    expect(data.id).toBe("resp_upstream_1");
    expect(data.output_text).toBe("Native hello");
    expect(one.requests[0]?.path).toBe("/v1/responses");
    expect(one.requests[0]?.json).toEqual({
      model: "gpt-5-mini",
      input: "Hi",
      include: ["reasoning.encrypted_content"],
      tools: [{ type: "web_search" }],
      store: false,
    });
  });

  it("passes a stream's events on as the upstream sent them", async () => {
    const one = await upstream(responsesUpstream("Streamed natively"));
    const { openai } = await serve([native("one", one)]);
    const stream = openai.responses.stream({ model: "gpt-5-mini", input: "Hi" });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect((await stream.finalResponse()).output_text).toBe("Streamed natively");
    expect(one.requests[0]?.json).toMatchObject({ stream: true });
  });

  it("falls back to the next native upstream when the first answers 503", async () => {
    const failing = await upstream((_request, response) =>
      sendJson(response, 503, { error: { message: "overloaded" } }),
    );
    const two = await upstream(responsesUpstream("From two"));
    const { openai } = await serve([native("failing", failing), native("two", two)]);
    const response = await openai.responses.create({ model: "gpt-5-mini", input: "Hi" });
    expect(response.output_text).toBe("From two");
    expect(failing.requests).toHaveLength(1);
  });

  it("ends a stream cut after its first events with an error event numbered after them", async () => {
    const cut = await upstream((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      const events = sseEvents("gpt-5-mini", "Half").split("\n\n");
      response.write(`${events.slice(0, 3).join("\n\n")}\n\n`, () => response.socket?.destroy());
    });
    const { server } = await serve([native("cut", cut)]);
    const answer = await fetch(`${server.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5-mini", input: "Hi", stream: true }),
    });
    expect(answer.status).toBe(200);
    const text = await answer.text();
    const last = text.trim().split("\n\n").at(-1) ?? "";
    expect(last.startsWith("event: error\ndata: ")).toBe(true);
    const event = JSON.parse(last.slice("event: error\ndata: ".length));
    expect(event).toMatchObject({ type: "error", code: "server_error", sequence_number: 3 });
    expect(event.message).toContain("failed after the answer had started");
  });

  it("translates for every candidate when one of them is not native", async () => {
    const one = await upstream(responsesUpstream("never"));
    const chat = await upstream((_request, response) =>
      sendJson(response, 200, {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "gpt-5-mini",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: "Translated" },
            finish_reason: "stop",
          },
        ],
      }),
    );
    const translating = new OpenAICompatible({
      id: "translating",
      baseUrl: `${chat.url}/v1`,
      models: ["gpt-5-mini"],
      retry: { maxAttempts: 1 },
    });
    const { openai } = await serve([translating, native("one", one)]);
    const response = await openai.responses.create({ model: "gpt-5-mini", input: "Hi" });
    expect(response.output_text).toBe("Translated");
    expect(chat.requests[0]?.path).toBe("/v1/chat/completions");
    expect(one.requests).toHaveLength(0);
  });
});
