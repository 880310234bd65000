import { describe, expect, it } from "vitest";
import { completionOf } from "./create-completion.js";
import {
  ChoiceChunk,
  chunkText,
  FinishReason,
  ImageResponse,
  imageMarkdown,
  isContentChunk,
  Logprobs,
  Reasoning,
  Refusal,
  ResponseChunk,
  ResponseMetadata,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "./response-chunks.js";
import { ToolCallAssembler } from "./tool-call-assembler.js";

// What a second copy of provider-core in one node_modules makes: other classes, same markers.
const foreignChunkMarker: unique symbol = Symbol.for("g4f-ts.response-chunk") as never;
const foreignReasoningMarker: unique symbol = Symbol.for(
  "g4f-ts.response-chunk.Reasoning",
) as never;

class ForeignReasoning {
  readonly [foreignChunkMarker] = true;
  readonly [foreignReasoningMarker] = true;
  readonly type = "reasoning";
  constructor(readonly text: string) {}
  get carriesContent(): boolean {
    return this.text.length > 0;
  }
}

describe("the chunk taxonomy", () => {
  it("counts text, images and reasoning as content, and metadata not", () => {
    expect(isContentChunk("a")).toBe(true);
    expect(isContentChunk("")).toBe(false);
    expect(isContentChunk(new ImageResponse(["u"], "p"))).toBe(true);
    expect(isContentChunk(new ImageResponse([], "p"))).toBe(false);
    expect(isContentChunk(new Reasoning("think"))).toBe(true);
    expect(isContentChunk(new Reasoning(""))).toBe(false);
    expect(isContentChunk(new FinishReason("stop"))).toBe(false);
    expect(isContentChunk(new Usage({ promptTokens: 1 }))).toBe(false);
  });

  it("tells each kind apart with isInstance, also for chunks of another copy of the package", () => {
    const foreign = new ForeignReasoning("think") as unknown as ResponseChunk;
    expect(Reasoning.isInstance(foreign)).toBe(true);
    expect(ResponseChunk.isInstance(foreign)).toBe(true);
    expect(ImageResponse.isInstance(foreign)).toBe(false);
    expect(isContentChunk(foreign)).toBe(true);
    expect(FinishReason.isInstance(new FinishReason("stop"))).toBe(true);
    expect(Usage.isInstance(new FinishReason("stop"))).toBe(false);
    expect(Usage.isInstance(new Usage({}))).toBe(true);
    expect(ImageResponse.isInstance(new ImageResponse(["u"], "p"))).toBe(true);
    expect(ResponseChunk.isInstance("text")).toBe(false);
    expect(completionOf([foreign]).reasoning).toBe("think");
  });

  it("writes one image as g4f does: a linked image", () => {
    expect(imageMarkdown(new ImageResponse(["https://x.test/a.png"], "a  cat\non a mat"))).toBe(
      "[![a cat on a mat](https://x.test/a.png)](https://x.test/a.png)",
    );
  });

  it("numbers several images #1, #2 in their alt text, one line each", () => {
    expect(chunkText(new ImageResponse(["http://x/1.png", "http://x/2.png"], "cat"))).toBe(
      "[![#1 cat](http://x/1.png)](http://x/1.png)\n[![#2 cat](http://x/2.png)](http://x/2.png)",
    );
  });

  it("keeps a URL with parentheses or spaces from ending the markdown link early", () => {
    expect(imageMarkdown(new ImageResponse(["http://x/a (1).png"], "[cat]"))).toBe(
      "[![cat](http://x/a%20%281%29.png)](http://x/a%20%281%29.png)",
    );
  });

  it("collects a whole answer: text, the text a client shows, reasoning, images, finish and usage", () => {
    const completion = completionOf([
      new Reasoning("hm "),
      new Reasoning("ok"),
      "Here: ",
      new ImageResponse(["http://x/1.png"], "cat"),
      new FinishReason("stop"),
      new Usage({ promptTokens: 1, completionTokens: 2 }),
    ]);
    expect(completion.text).toBe("Here: ");
    expect(completion.content).toBe("Here: [![cat](http://x/1.png)](http://x/1.png)");
    expect(completion.reasoning).toBe("hm ok");
    expect(completion.images).toEqual(["http://x/1.png"]);
    expect(completion.finishReason).toBe("stop");
    expect(completion.usage?.totalTokens).toBe(3);
  });
});

describe("the chunks of the whole chat surface", () => {
  it("count tool calls and refusals as content, logprobs and metadata not", () => {
    expect(isContentChunk(new ToolCallDelta({ index: 0, id: "c1", name: "f" }))).toBe(true);
    expect(isContentChunk(new ToolCallDelta({ index: 0, arguments: '{"a"' }))).toBe(true);
    expect(isContentChunk(new ToolCallDelta({ index: 0 }))).toBe(false);
    expect(isContentChunk(new Refusal("I can not help with that"))).toBe(true);
    expect(isContentChunk(new Refusal(""))).toBe(false);
    expect(isContentChunk(new Logprobs([{ token: "a", logprob: -0.1 }]))).toBe(false);
    expect(isContentChunk(new ResponseMetadata({ systemFingerprint: "fp_1" }))).toBe(false);
    expect(isContentChunk(new ChoiceChunk(1, "text"))).toBe(true);
    expect(isContentChunk(new ChoiceChunk(1, new FinishReason("stop")))).toBe(false);
  });

  it("keep usage details and say when counts are estimated", () => {
    const usage = new Usage({
      promptTokens: 3,
      completionTokens: 4,
      promptTokensDetails: { cached_tokens: 2 },
      completionTokensDetails: { reasoning_tokens: 1 },
    });
    expect(usage.totalTokens).toBe(7);
    expect(usage.promptTokensDetails).toEqual({ cached_tokens: 2 });
    expect(usage.completionTokensDetails).toEqual({ reasoning_tokens: 1 });
    expect(usage.estimated).toBe(false);
    expect(new Usage({ promptTokens: 1, estimated: true }).estimated).toBe(true);
  });

  it("collect streamed tool-call pieces by index, a refusal and the metadata into a completion", () => {
    const completion = completionOf([
      new ResponseMetadata({ systemFingerprint: "fp_1" }),
      new ToolCallDelta({ index: 0, id: "call_a", name: "weather", arguments: "" }),
      new ToolCallDelta({ index: 1, id: "call_b", name: "time", arguments: '{"tz":' }),
      new ToolCallDelta({ index: 0, arguments: '{"city":' }),
      new ToolCallDelta({ index: 0, arguments: '"Oslo"}' }),
      new ToolCallDelta({ index: 1, arguments: '"UTC"}' }),
      new FinishReason("tool_calls"),
    ]);
    expect(completion.toolCalls).toEqual([
      {
        id: "call_a",
        type: "function",
        function: { name: "weather", arguments: '{"city":"Oslo"}' },
      },
      { id: "call_b", type: "function", function: { name: "time", arguments: '{"tz":"UTC"}' } },
    ]);
    expect(completion.metadata?.systemFingerprint).toBe("fp_1");
    expect(completion.finishReason).toBe("tool_calls");
    expect(completionOf([new Refusal("No"), new Refusal(".")]).refusal).toBe("No.");
  });

  it("take whole tool calls after streamed ones, in order", () => {
    const assembler = new ToolCallAssembler();
    assembler.add(new ToolCallDelta({ index: 0, id: "a", name: "f", arguments: "{}" }));
    assembler.add(
      new ToolCalls([{ id: "b", type: "function", function: { name: "g", arguments: "[]" } }]),
    );
    expect(assembler.add("text")).toBe(false);
    expect(assembler.toolCalls().map((call) => call.id)).toEqual(["a", "b"]);
    expect(assembler.size).toBe(2);
  });
});
