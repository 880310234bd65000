import { describe, expect, it } from "vitest";
import { defaultReply, resolveReplyChunks, splitReply } from "./reply-text.js";
import type { RecordedRequest } from "./test-server.js";

function withBody(json: unknown): RecordedRequest {
  const bodyText = JSON.stringify(json) ?? "";
  return { index: 0, method: "POST", path: "/", url: "/", headers: {}, bodyText, json };
}

describe("splitReply", () => {
  it("cuts a text into pieces of 4 characters, the last one shorter", () => {
    expect(splitReply("Hello from x!")).toEqual(["Hell", "o fr", "om x", "!"]);
  });

  it("never cuts an emoji in half", () => {
    expect(splitReply("ab😀cd", 3)).toEqual(["ab😀", "cd"]);
  });

  it("gives no pieces for an empty text", () => {
    expect(splitReply("")).toEqual([]);
  });
});

describe("resolveReplyChunks", () => {
  it("says hello from the requested model by default", () => {
    const request = withBody({ model: "gpt-4o-mini" });
    expect(defaultReply(request)).toBe("Hello from gpt-4o-mini!");
    expect(resolveReplyChunks(defaultReply, request).join("")).toBe("Hello from gpt-4o-mini!");
  });

  it("keeps chunks given as a list exactly as they are", () => {
    expect(resolveReplyChunks(["a", "bcdefg"], withBody({}))).toEqual(["a", "bcdefg"]);
    expect(resolveReplyChunks(() => ["x", "", "y"], withBody({}))).toEqual(["x", "", "y"]);
  });

  it("splits a text reply into 4-character chunks", () => {
    expect(resolveReplyChunks("abcdefghij", withBody({}))).toEqual(["abcd", "efgh", "ij"]);
  });
});
