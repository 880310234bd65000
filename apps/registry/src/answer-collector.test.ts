import {
  ChoiceChunk,
  FinishReason,
  ImageResponse,
  Logprobs,
  Reasoning,
  Refusal,
  ResponseTooLargeError,
  ToolCallDelta,
  Usage,
} from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import { AnswerCollector } from "./answer-collector.js";

describe("AnswerCollector", () => {
  it("gathers text, reasoning and images, keeping the latest finish reason and usage", () => {
    const collector = new AnswerCollector("p", 1024);
    collector.add(new Reasoning("think "));
    collector.add("Hel");
    collector.add(new FinishReason("length"));
    collector.add("");
    collector.add("lo");
    collector.add(new Reasoning("more"));
    collector.add(new ImageResponse(["http://127.0.0.1/a.png"], "a [cat]"));
    collector.add(new FinishReason("stop"));
    collector.add(new Usage({ promptTokens: 1, completionTokens: 2 }));
    const answer = collector.answer();
    expect(answer.content).toBe("Hello[![a cat](http://127.0.0.1/a.png)](http://127.0.0.1/a.png)");
    expect(answer.reasoning).toBe("think more");
    expect(answer.images).toEqual(["http://127.0.0.1/a.png"]);
    expect(answer.finishReason).toBe("stop");
    expect(answer.usage?.totalTokens).toBe(3);
  });

  it("counts UTF-8 bytes against the limit and throws a ResponseTooLargeError naming it", () => {
    const collector = new AnswerCollector("p", 10);
    collector.add("éééé");
    collector.add("ab");
    expect(collector.bytes).toBe(10);
    const error = (() => {
      try {
        collector.add("é");
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as ResponseTooLargeError).limitName).toBe("server.answerLimitBytes");
    expect((error as Error).message).toContain("10 bytes (server.answerLimitBytes)");
  });

  it("counts a reasoning chunk with its overhead, so endless tiny chunks meet the limit too", () => {
    const collector = new AnswerCollector("p", 1000);
    let added = 0;
    expect(() => {
      for (;;) {
        collector.add(new Reasoning("r"));
        added++;
      }
    }).toThrow(ResponseTooLargeError);
    expect(added).toBe(15);
  });

  it("keeps the choices of n apart, and at most 128 of them, however an upstream numbers them", () => {
    const collector = new AnswerCollector("p", 1024 * 1024);
    for (let index = 1; index <= 300; index++) collector.add(new ChoiceChunk(index, "x"));
    collector.add("zero");
    const { choices } = collector.answer();
    expect(choices).toHaveLength(128);
    expect(choices.map((choice) => choice.index).slice(0, 3)).toEqual([0, 1, 2]);
    // The choices past the cap fold into choice 0 rather than growing the answer's shape.
    expect(choices[0]?.content).toBe(`${"x".repeat(300 - 127)}zero`);
  });

  it("counts tool calls, refusals and logprobs against the limit too", () => {
    for (const chunk of [
      new ToolCallDelta({ index: 0, id: "c", name: "f", arguments: "a".repeat(2000) }),
      new Refusal("r".repeat(2000)),
      new Logprobs([{ token: "t".repeat(2000), logprob: 0 }]),
    ]) {
      const collector = new AnswerCollector("p", 1024);
      expect(() => collector.add(chunk)).toThrow(ResponseTooLargeError);
    }
  });

  it("gathers each part of each choice whole, whether it came in one piece, two, or hundreds", () => {
    const collector = new AnswerCollector("p", 1024 * 1024);
    collector.add("whole");
    collector.add(new ChoiceChunk(2, "a"));
    collector.add(new ChoiceChunk(2, "b"));
    for (let piece = 0; piece < 600; piece++) collector.add(new ChoiceChunk(1, `${piece % 10}`));
    collector.add(new ChoiceChunk(1, new Refusal("no")));
    collector.add(new ChoiceChunk(1, new Refusal("pe")));
    collector.add(
      new ChoiceChunk(2, new ToolCallDelta({ index: 0, id: "c", name: "f", arguments: "{" })),
    );
    collector.add(new ChoiceChunk(2, new ToolCallDelta({ index: 0, arguments: "}" })));
    collector.add(new ChoiceChunk(2, new Reasoning("")));
    collector.add(new ChoiceChunk(1, new FinishReason("length")));
    const { content, choices, images } = collector.answer();
    expect(content).toBe("whole");
    expect(images).toEqual([]);
    expect(choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(choices[0]).toEqual({
      index: 0,
      content: "whole",
      reasoning: "",
      refusal: "",
      toolCalls: [],
      logprobs: undefined,
      finishReason: undefined,
    });
    expect(choices[1]?.content).toBe("0123456789".repeat(60));
    expect(choices[1]?.refusal).toBe("nope");
    expect(choices[1]?.finishReason).toBe("length");
    expect(choices[2]?.content).toBe("ab");
    expect(choices[2]?.reasoning).toBe("");
    expect(choices[2]?.toolCalls).toEqual([
      { id: "c", type: "function", function: { name: "f", arguments: "{}" } },
    ]);
    // Asked again, the same answer.
    expect(collector.answer().choices[1]?.content).toBe("0123456789".repeat(60));
  });
});
