import {
  FinishReason,
  Reasoning,
  Refusal,
  ToolCallDelta,
  ToolCalls,
  Usage,
} from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import {
  ResponseAssembler,
  type ResponseEvent,
  responseEventText,
  responseObjectEventText,
} from "./responses-stream.js";

/** The events of one streamed answer of every kind of chunk, from the first to the last. */
function eventsOf(finishReason: string): ResponseEvent[] {
  const assembler = new ResponseAssembler(
    {
      id: "resp_1",
      createdAt: 1_767_000_000,
      model: "m",
      provider: "p",
      echo: { instructions: null, metadata: { note: 'a "quoted" \n value' }, tools: [] },
      reasoningSummary: true,
    },
    true,
    1_000_000,
  );
  const events = [...assembler.start()];
  for (const chunk of [
    new Reasoning("Thinking…"),
    "Hello",
    ' "world" \u2028 \n',
    new Refusal("No."),
    "again",
    new ToolCallDelta({ index: 0, id: "call_1", name: "lookup", arguments: '{"word":' }),
    new ToolCallDelta({ index: 1, id: "call_2", name: "other", arguments: "{}" }),
    new ToolCallDelta({ index: 0, arguments: '"x"}' }),
    new ToolCalls([
      { id: "call_3", type: "function", function: { name: "third", arguments: "{}" } },
    ]),
    new FinishReason(finishReason),
    new Usage({ promptTokens: 3, completionTokens: 5, totalTokens: 8 }),
  ])
    events.push(...assembler.add(chunk));
  events.push(...assembler.complete(12).events);
  events.push(...assembler.fail("server_error", "broke"));
  return events;
}

describe("responseEventText", () => {
  it("writes every event as the JSON of its copy with the sequence number last", () => {
    const events = eventsOf("stop");
    expect(events.length).toBeGreaterThan(20);
    for (const [index, event] of events.entries())
      expect(responseEventText(event, index)).toBe(
        `event: ${event.type}\ndata: ${JSON.stringify({ ...event, sequence_number: index })}\n\n`,
      );
  });
});

describe("responseObjectEventText", () => {
  it("writes the event that carries the response as responseEventText does, from the response's JSON", () => {
    for (const reason of ["stop", "length", "content_filter"]) {
      const events = eventsOf(reason);
      const carrying = events.filter((event) => "response" in event);
      // created, in_progress, completed or incomplete, failed
      expect(carrying.map((event) => event.type)).toContain(
        reason === "stop" ? "response.completed" : "response.incomplete",
      );
      for (const event of carrying)
        expect(responseObjectEventText(event.type, JSON.stringify(event.response), 41)).toBe(
          responseEventText(event, 41),
        );
    }
  });
});
