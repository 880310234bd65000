import { describe, expect, it } from "vitest";
import { HttpError } from "./http-errors.js";
import { inputMessages, parseResponsesRequest, responsesOptions } from "./responses-api.js";

function paramOf(action: () => unknown): string | null | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof HttpError) return error.param;
    throw error;
  }
  return undefined;
}

describe("the Responses request as chat messages", () => {
  it("reads every input part a chat model takes, developer as system", () => {
    expect(
      inputMessages([
        { role: "developer", content: [{ type: "input_text", text: "Be kind." }] },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "Look:" },
            { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" },
            {
              type: "input_file",
              file_data: "data:application/pdf;base64,AAAA",
              filename: "a.pdf",
            },
            { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
          ],
        },
      ]),
    ).toEqual([
      { role: "system", content: [{ type: "text", text: "Be kind." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "Look:" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
          {
            type: "file",
            file: { file_data: "data:application/pdf;base64,AAAA", filename: "a.pdf" },
          },
          { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
        ],
      },
    ]);
  });

  it("joins an assistant's text and its consecutive function calls into one message, and passes reasoning over", () => {
    expect(
      inputMessages([
        { role: "user", content: "Both?" },
        { type: "reasoning", id: "rs_1", summary: [] },
        {
          type: "message",
          role: "assistant",
          id: "msg_1",
          status: "completed",
          content: [{ type: "output_text", text: "Calling.", annotations: [] }],
        },
        { type: "function_call", call_id: "c1", name: "a", arguments: "{}" },
        {
          type: "function_call",
          call_id: "c2",
          name: "b",
          arguments: '{"x":1}',
          status: "completed",
        },
        { type: "function_call_output", call_id: "c1", output: "one" },
        {
          type: "function_call_output",
          call_id: "c2",
          output: [{ type: "input_text", text: "two" }],
        },
      ]),
    ).toEqual([
      { role: "user", content: "Both?" },
      {
        role: "assistant",
        content: "Calling.",
        tool_calls: [
          { id: "c1", type: "function", function: { name: "a", arguments: "{}" } },
          { id: "c2", type: "function", function: { name: "b", arguments: '{"x":1}' } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "one" },
      { role: "tool", tool_call_id: "c2", content: [{ type: "text", text: "two" }] },
    ]);
  });

  it("keeps an earlier refusal on the assistant message", () => {
    expect(
      inputMessages([{ role: "assistant", content: [{ type: "refusal", refusal: "No." }] }]),
    ).toEqual([{ role: "assistant", content: "", refusal: "No." }]);
  });

  it("names the field of each part it can not take", () => {
    expect(
      paramOf(() =>
        inputMessages([{ role: "system", content: [{ type: "input_image", image_url: "x" }] }]),
      ),
    ).toBe("input.0.content");
    expect(
      paramOf(() => inputMessages([{ role: "user", content: [{ type: "input_video" }] }])),
    ).toBe("input.0.content.0.type");
    expect(
      paramOf(() =>
        inputMessages([
          { type: "function_call_output", call_id: "c", output: [{ type: "input_image" }] },
        ]),
      ),
    ).toBe("input.0.output.0.type");
    expect(
      paramOf(() =>
        inputMessages([{ role: "user", content: [{ type: "input_file", file_url: "https://x" }] }]),
      ),
    ).toBe("input.0.content.0.file_url");
    expect(
      paramOf(() => inputMessages([{ type: "function_call", name: "a", arguments: "{}" }])),
    ).toBe("input.0.call_id");
  });
});

describe("the Responses request's options", () => {
  it("maps every option to the provider contract", () => {
    const request = parseResponsesRequest({
      model: "m",
      input: "Hi",
      temperature: 0.1,
      top_p: 0.2,
      max_output_tokens: 3,
      reasoning: { effort: "high" },
      user: "u",
      service_tier: "flex",
      tools: [{ type: "function", name: "f", parameters: { type: "object" } }],
      tool_choice: "required",
      parallel_tool_calls: true,
      text: { format: { type: "json_object" }, verbosity: "high" },
      safety_identifier: "s",
      prompt_cache_key: "k",
    });
    expect(responsesOptions(request)).toEqual({
      temperature: 0.1,
      topP: 0.2,
      maxCompletionTokens: 3,
      reasoningEffort: "high",
      user: "u",
      serviceTier: "flex",
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      toolChoice: "required",
      parallelToolCalls: true,
      responseFormat: { type: "json_object" },
      extraBody: { verbosity: "high", safety_identifier: "s", prompt_cache_key: "k" },
    });
  });

  it("sends no tool options without tools, and refuses a tool choice that needs them", () => {
    expect(
      responsesOptions(
        parseResponsesRequest({ input: "Hi", tool_choice: "auto", parallel_tool_calls: false }),
      ),
    ).toEqual({});
    expect(
      paramOf(() =>
        responsesOptions(parseResponsesRequest({ input: "Hi", tool_choice: "required" })),
      ),
    ).toBe("tool_choice");
  });

  it("refuses a body that sets an upstream address, and more input items than allowed", () => {
    expect(paramOf(() => parseResponsesRequest({ input: "Hi", base_url: "http://x" }))).toBe(
      "base_url",
    );
    expect(
      paramOf(() =>
        parseResponsesRequest(
          {
            input: [
              { role: "user", content: "a" },
              { role: "user", content: "b" },
            ],
          },
          { maxMessages: 1 },
        ),
      ),
    ).toBe("input");
  });
});
