import { describe, expect, it } from "vitest";
import {
  checkMessages,
  InvalidOptionsError,
  retryPolicySchema,
  vouchForMessages,
} from "./provider-options.js";

class ExampleOptionsError extends InvalidOptionsError {
  override readonly name = "ExampleOptionsError";
}

describe("checkMessages", () => {
  const create = (options: ConstructorParameters<typeof InvalidOptionsError>[0]) =>
    new ExampleOptionsError(options);

  it("accepts text and multi-part messages", () => {
    expect(() =>
      checkMessages(
        [
          { role: "user", content: "hi" },
          { role: "user", content: [{ type: "text", text: "a" }] },
        ],
        "Example",
        create,
      ),
    ).not.toThrow();
  });

  it("throws the provider's own error naming the bad message's field, not retryable", () => {
    let caught: unknown;
    try {
      checkMessages([{ role: "user", content: 42 }], "Example", create);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExampleOptionsError);
    expect(InvalidOptionsError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({
      field: "messages.0.content",
      retryable: false,
      provider: "Example",
    });
    expect(() => checkMessages("not a list", "Example", create)).toThrow(/invalid messages/);
  });

  it("takes a plain conversation without the schema, and leaves every other form to it, which names the bad field", () => {
    const plain = [
      { role: "system", content: "be brief" },
      { role: "developer", content: "" },
      { role: "user", content: "hi", name: "ann" },
      { role: "assistant", content: "hello", tool_calls: undefined },
    ];
    expect(() => checkMessages(plain, "Example", create)).not.toThrow();
    const refused: [unknown, string][] = [
      [
        [{ role: "assistant", content: "x", tool_calls: [{ id: 1 }] }],
        "messages.0.tool_calls.0.id",
      ],
      [[{ role: "tool", content: "42" }], "messages.0.tool_call_id"],
      [[["user", "hi"]], "messages.0"],
      [[{ role: "robot", content: "hi" }], "messages.0.role"],
      [[{ role: "user", content: "hi" }, null], "messages.1"],
      [[{ content: "hi" }], "messages.0.role"],
    ];
    for (const [messages, field] of refused) {
      let caught: unknown;
      try {
        checkMessages(messages, "Example", create);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(messages)).toMatchObject({ field });
    }
    // Forms beyond the plain one that the schema accepts.
    const accepted = [
      [{ role: "assistant", content: null, tool_calls: [] }],
      [{ role: "tool", content: "42", tool_call_id: "call_1" }],
      [{ role: "function", content: null, name: "lookup" }],
    ];
    for (const messages of accepted)
      expect(() => checkMessages(messages, "Example", create)).not.toThrow();
  });

  it("skips the walk of a conversation its builder vouched for, until its length changes", () => {
    // Not a valid conversation, so that whether it was walked shows.
    const messages: unknown[] = [{ role: "user", content: 42 }];
    vouchForMessages(messages);
    expect(() => checkMessages(messages, "Example", create)).not.toThrow();
    messages.push({ role: "user", content: "more" });
    expect(() => checkMessages(messages, "Example", create)).toThrow(/invalid messages/);
    // A copy, however equal, was vouched for by no one.
    expect(() => checkMessages([{ role: "user", content: 42 }], "Example", create)).toThrow(
      /invalid messages/,
    );
  });
});

describe("retryPolicySchema", () => {
  it("refuses unknown keys and out-of-range attempts", () => {
    expect(retryPolicySchema.safeParse({ maxAttempts: 2 }).success).toBe(true);
    expect(retryPolicySchema.safeParse({ maxAttempts: 0 }).success).toBe(false);
    expect(retryPolicySchema.safeParse({ tries: 2 }).success).toBe(false);
  });
});
