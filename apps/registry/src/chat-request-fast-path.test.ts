import { CallOptionsReader, checkMessages } from "@g4f-ts/provider-core/internal";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { fastChatRequestData, readPlainChatRequest } from "./chat-request-fast-path.js";
import { HttpError } from "./http-errors.js";
import * as openaiWire from "./openai-wire.js";

/*
 * The fast path of `parseChatRequest` against the schema alone: the same request
 * (every field, key order included), the same messages and options for the
 * providers, and the same 400 for every body, on a corpus of good and bad bodies
 * and on generated ones.
 */

// openai-wire.ts again, with a fast path that never takes a request: the schema's path.
vi.resetModules();
vi.doMock("./chat-request-fast-path.js", () => ({
  fastChatRequestData: () => undefined,
  readPlainChatRequest: () => undefined,
}));
const schemaOnly = (await import("./openai-wire.js")) as typeof openaiWire;
vi.doUnmock("./chat-request-fast-path.js");

/** JSON text with `undefined` kept, so that two values print the same only when they hold the same keys in the same order. */
function printed(value: unknown): string {
  return JSON.stringify(value, (_key, field) => (field === undefined ? "(undefined)" : field));
}

/** What a parse path makes of `body`: its request, messages and options, or its error. */
function outcome(wire: typeof openaiWire, body: unknown): string {
  try {
    const request = wire.parseChatRequest(body, { maxMessages: 64, maxContentParts: 64 });
    return printed({
      request,
      messages: wire.toMessages(request),
      options: wire.toProviderOptions(request),
    });
  } catch (error) {
    // The schema-only module has its own copy of http-errors.js, and of HttpError.
    if (!(error instanceof Error) || error.name !== HttpError.name) throw error;
    const refusal = error as HttpError;
    return printed({ status: refusal.status, error: refusal.toErrorObject() });
  }
}

const user = { role: "user", content: "Hello" };
const goodBodies: Record<string, unknown>[] = [
  { model: "gpt-4o-mini", messages: [user] },
  { messages: [user], model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true } },
  { model: "gpt-4o-mini", messages: [{ content: "Hello", role: "user", name: "ada" }] },
  {
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: "Really.", name: "boss" },
      user,
      { role: "assistant", content: null },
      { role: "assistant" },
      { role: "assistant", content: "Hi", name: "bot" },
      { role: "tool", tool_call_id: "call_1", content: "sunny" },
    ],
    stream: null,
  },
  {
    model: "gpt-4o-mini",
    messages: [user],
    temperature: 0.2,
    top_p: 1,
    max_tokens: 512,
    max_completion_tokens: 100,
    frequency_penalty: -1,
    presence_penalty: null,
    n: 2,
    stop: ["\n"],
    seed: 7,
    user: "u-1",
    metadata: { a: "b" },
    logit_bias: { "50256": -100 },
    logprobs: true,
    top_logprobs: 3,
    reasoning_effort: "low",
    service_tier: "auto",
    tools: [
      {
        function: { parameters: { type: "object", properties: {} }, name: "look" },
        type: "function",
      },
    ],
    tool_choice: { type: "function", function: { name: "look" } },
    parallel_tool_calls: false,
    response_format: {
      json_schema: { name: "x", schema: { type: "object" } },
      type: "json_schema",
    },
    provider: "amigo-a amigo-b",
    modalities: ["text"],
    store: false,
  },
  { model: "gpt-4o-mini", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] },
  {
    model: "gpt-4o-mini",
    messages: [
      user,
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "function", name: "f", content: null },
    ],
  },
  { messages: [user], unknown_field: { nested: [1, 2] }, prediction: null },
  { messages: [user], tools: [] },
  { messages: [user], response_format: { type: "text" } },
  { messages: [user], response_format: { type: "json_object" } },
  {
    messages: [user],
    response_format: {
      json_schema: { strict: null, schema: { b: 1, a: { c: 2 } }, description: "d", name: "x" },
      type: "json_schema",
    },
  },
  {
    messages: [user],
    tools: [
      { type: "function", function: { name: "a" } },
      {
        function: {
          strict: null,
          parameters: { "2": 1, b: { c: [1] }, a: null },
          description: "",
          name: "n".repeat(256),
        },
        type: "function",
      },
      { type: "function", function: { name: "c", strict: true, parameters: {} } },
    ],
  },
  // zod's record leaves a `__proto__` key out.
  {
    messages: [user],
    tools: [
      JSON.parse(
        '{"type":"function","function":{"name":"p","parameters":{"__proto__":{"x":1},"y":2}}}',
      ),
    ],
  },
  { model: "", messages: [{ role: "tool", tool_call_id: "x", content: "" }] },
];

const badBodies: unknown[] = [
  null,
  [],
  "text",
  {},
  { model: "gpt-4o-mini" },
  { model: "gpt-4o-mini", messages: [] },
  { model: "gpt-4o-mini", messages: "Hello" },
  { model: 42, messages: [user] },
  { model: "m".repeat(257), messages: [user] },
  { model: "gpt-4o-mini", messages: [user], stream: "yes" },
  { model: "gpt-4o-mini", messages: [user], stream_options: { include_usage: 1 } },
  { model: "gpt-4o-mini", messages: [user], temperature: 3 },
  { model: "gpt-4o-mini", messages: [user], n: 0 },
  { model: "gpt-4o-mini", messages: [user], max_tokens: 1.5 },
  { model: "gpt-4o-mini", messages: [user], tools: [{ type: "retrieval" }] },
  { model: "gpt-4o-mini", messages: [user], metadata: { a: 1 } },
  {
    messages: [user],
    tools: Array.from({ length: 129 }, () => ({ type: "function", function: { name: "a" } })),
  },
  { messages: [user], tools: [{ type: "function", function: { name: "" } }] },
  { messages: [user], tools: [{ type: "function", function: { name: "n".repeat(257) } }] },
  { messages: [user], tools: [{ type: "function", function: { name: "a", description: 1 } }] },
  { messages: [user], tools: [{ type: "function", function: { name: "a", parameters: [] } }] },
  { messages: [user], tools: [{ type: "function", function: { name: "a", parameters: "x" } }] },
  { messages: [user], tools: [{ type: "function", function: { name: "a", strict: "yes" } }] },
  { messages: [user], tools: [{ type: "function", function: { name: "a", extra: 1 } }] },
  { messages: [user], tools: [{ type: "function", function: { name: "a" }, extra: 1 }] },
  { messages: [user], tools: [{ type: "function", extra: { name: "a" } }] },
  { messages: [user], tools: [{ type: "function" }] },
  { messages: [user], tools: [null] },
  { messages: [user], tools: {} },
  { messages: [user], response_format: { type: "text", extra: 1 } },
  { messages: [user], response_format: { type: "json_object", json_schema: { name: "x" } } },
  { messages: [user], response_format: { type: "json_schema" } },
  { messages: [user], response_format: { type: "json_schema", json_schema: { name: "" } } },
  {
    messages: [user],
    response_format: { type: "json_schema", json_schema: { name: "n".repeat(65) } },
  },
  {
    messages: [user],
    response_format: { type: "json_schema", json_schema: { name: "x", schema: [] } },
  },
  {
    messages: [user],
    response_format: { type: "json_schema", json_schema: { name: "x", strict: 1 } },
  },
  {
    messages: [user],
    response_format: { type: "json_schema", json_schema: { name: "x", other: 1 } },
  },
  { messages: [user], response_format: { type: "xml" } },
  { messages: [user], response_format: "json_object" },
  { model: "gpt-4o-mini", messages: [user], proxy: "http://127.0.0.1:1" },
  { model: "gpt-4o-mini", messages: [user], base_url: "http://127.0.0.1:1" },
  { model: "gpt-4o-mini", messages: [{ role: "user" }] },
  { model: "gpt-4o-mini", messages: [{ role: "user", content: null }] },
  { model: "gpt-4o-mini", messages: [{ role: "user", content: 5 }] },
  { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi", extra: 1 }] },
  { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi", name: 3 }] },
  { model: "gpt-4o-mini", messages: [{ role: "wizard", content: "Hi" }] },
  { model: "gpt-4o-mini", messages: [{ role: "tool", content: "Hi" }] },
  { model: "gpt-4o-mini", messages: [{ role: "tool", content: "Hi", tool_call_id: "" }] },
  {
    model: "gpt-4o-mini",
    messages: [{ role: "tool", content: "Hi", name: "x", tool_call_id: "c" }],
  },
  { model: "gpt-4o-mini", messages: [{ role: "assistant", content: "Hi", tool_call_id: "c" }] },
  { model: "gpt-4o-mini", messages: [user, null] },
  { model: "gpt-4o-mini", messages: [user, "Hello"] },
  { model: "gpt-4o-mini", messages: [user, [user]] },
  { model: "gpt-4o-mini", messages: [user, { role: "user", content: "x" }], n: "2" },
  { model: "gpt-4o-mini", messages: Array.from({ length: 65 }, () => user) },
];

// Values JSON never makes (a direct caller's): the fast path leaves them to the schema.
const oddBodies: unknown[] = [
  { model: undefined, messages: [user] },
  { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi", name: undefined }] },
  Object.assign(Object.create({ model: "inherited" }), { messages: [user] }),
  { model: "gpt-4o-mini", messages: [Object.assign(Object.create({ name: "x" }), user)] },
];

describe("the chat request's fast path", () => {
  it("takes the plain requests, giving the value the schema gives, key order included", () => {
    for (const body of goodBodies.slice(0, 5)) {
      const fast = fastChatRequestData(openaiWire.chatRequestSchema, body);
      expect(fast).toBeDefined();
      const parsed = openaiWire.chatRequestSchema.safeParse(body);
      expect(printed(fast)).toBe(printed(parsed.data));
    }
  });

  it("reads the plain requests in one pass over their keys, to the value the general path gives", () => {
    const plain = [
      goodBodies[0],
      { model: "gpt-4o-mini", messages: [user], stream: false },
      {
        model: "gpt-4o-mini",
        messages: [user],
        stream: true,
        temperature: 0.5,
        modalities: ["text"],
      },
      { model: "gpt-4o-mini", messages: [{ content: "Hello", role: "user", name: "ada" }] },
      goodBodies[3],
    ];
    for (const body of plain) {
      const read = readPlainChatRequest(openaiWire.chatRequestSchema, body, { maxMessages: 64 });
      expect(read).toBeDefined();
      expect(printed(read)).toBe(printed(schemaOnly.parseChatRequest(body)));
    }
  });

  it("leaves to the general path a body whose fields are out of the schema's order, or that it must refuse", () => {
    const schema = openaiWire.chatRequestSchema;
    const leftOut: unknown[] = [
      { messages: [user], model: "gpt-4o-mini" },
      { model: "gpt-4o-mini", messages: [user], proxy: "http://127.0.0.1:1" },
      JSON.parse(
        '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"__proto__":{}}',
      ),
      {
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      },
      { model: "gpt-4o-mini", messages: [{ role: "user", content: null }] },
      { model: "gpt-4o-mini", messages: [user, user, user] },
      { model: "gpt-4o-mini" },
      { model: "gpt-4o-mini", messages: [user], extra: undefined },
    ];
    for (const body of leftOut) {
      expect(readPlainChatRequest(schema, body, { maxMessages: 2 })).toBeUndefined();
      // …and the general path decides, as ever.
      expect(outcome(openaiWire, body)).toBe(outcome(schemaOnly, body));
    }
  });

  it("gives the same request, messages, options and 400 as the schema alone for every body of the corpus", () => {
    for (const body of [...goodBodies, ...badBodies, ...oddBodies])
      expect(outcome(openaiWire, body)).toBe(outcome(schemaOnly, body));
    // The corpus holds requests both take and requests both refuse.
    expect(goodBodies.every((body) => !outcome(openaiWire, body).includes('"status"'))).toBe(true);
    expect(badBodies.filter((body) => !outcome(openaiWire, body).includes('"status":400'))).toEqual(
      [],
    );
  });

  it("gives the same outcome as the schema alone for generated bodies, good and bad", () => {
    const text = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("", "x".repeat(300)));
    const oddValue = fc.oneof(
      fc.constantFrom(null, true, false, 0, 1, -1, 1.5, 2, 300, "", "auto", [], {}),
      text,
      fc.jsonValue({ maxDepth: 2 }),
    );
    const role = fc.constantFrom(
      "system",
      "developer",
      "user",
      "assistant",
      "tool",
      "function",
      "other",
    );
    const message = fc.oneof(
      fc.record(
        {
          role,
          content: fc.oneof(text, fc.constant(null), oddValue),
          name: fc.oneof(text, oddValue),
          tool_call_id: fc.oneof(text, oddValue),
          refusal: oddValue,
        },
        { requiredKeys: ["role"] },
      ),
      oddValue,
    );
    const field = (name: string) => fc.tuple(fc.constant(name), oddValue);
    const toolValue = fc.oneof(text, oddValue, fc.constant(undefined));
    // A function's or a JSON schema format's definition, its record under `recordKey`.
    const definition = (recordKey: "parameters" | "schema") =>
      fc.record(
        {
          name: fc.oneof(fc.string({ minLength: 1, maxLength: 4 }), toolValue),
          description: toolValue,
          [recordKey]: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), toolValue),
          strict: toolValue,
          other: toolValue,
        },
        { requiredKeys: [] },
      );
    const responseFormat = fc.tuple(
      fc.constant("response_format"),
      fc.record(
        {
          type: fc.oneof(fc.constantFrom("text", "json_object", "json_schema"), oddValue),
          json_schema: fc.oneof(definition("schema"), oddValue),
          other: oddValue,
        },
        { requiredKeys: [] },
      ),
    );
    const tools = fc.tuple(
      fc.constant("tools"),
      fc.array(
        fc.oneof(
          fc.record(
            {
              type: fc.oneof(fc.constant("function"), oddValue),
              function: fc.oneof(definition("parameters"), oddValue),
              other: oddValue,
            },
            { requiredKeys: [] },
          ),
          oddValue,
        ),
        { maxLength: 3 },
      ),
    );
    const body = fc
      .tuple(
        fc.record(
          {
            model: fc.oneof(text, oddValue),
            messages: fc.oneof(fc.array(message, { maxLength: 4 }), oddValue),
            stream: oddValue,
          },
          { requiredKeys: [] },
        ),
        fc.array(
          fc.oneof(
            ...[
              "temperature",
              "n",
              "max_tokens",
              "stream_options",
              "tools",
              "stop",
              "user",
              "provider",
              "response_format",
              "modalities",
              "extra",
            ].map(field),
            tools,
            responseFormat,
          ),
          { maxLength: 3 },
        ),
      )
      .map(([base, fields]) => ({ ...base, ...Object.fromEntries(fields) }));
    fc.assert(
      fc.property(body, (generated) => {
        expect(outcome(openaiWire, generated)).toBe(outcome(schemaOnly, generated));
      }),
      { seed: 20_261_202, numRuns: 2000 },
    );
  });

  it("lets the core skip its walk of messages the registry built, and only those", () => {
    // Every conversation toMessages builds from the corpus passes the core's own check
    // (so skipping it refuses nothing), and a conversation built by hand is still walked.
    const reader = new CallOptionsReader("bench", {});
    for (const body of goodBodies) {
      const messages = openaiWire.toMessages(openaiWire.parseChatRequest(body));
      expect(() =>
        checkUnvouched(
          messages.map((message) => ({ ...message })),
          reader,
        ),
      ).not.toThrow();
    }
    expect(() => checkUnvouched([{ role: "user", content: 5 }], reader)).toThrow(
      /invalid messages/,
    );
  });
});

function checkUnvouched(messages: unknown[], reader: CallOptionsReader): void {
  checkMessages(messages, "bench", reader.createError);
}
