import { describe, expect, it } from "vitest";
import { parseSseData } from "./sse-data.js";

describe("parseSseData", () => {
  it("returns the data payloads in order, ignoring comments and other fields", () => {
    const body = ': ping\n\nevent: message\ndata: {"a":1}\n\ndata:no-space\r\n\r\ndata: [DONE]\n\n';
    expect(parseSseData(body)).toEqual(['{"a":1}', "no-space", "[DONE]"]);
  });

  it("joins the lines of a multi-line data field", () => {
    expect(parseSseData("data: one\ndata: two\n\n")).toEqual(["one\ntwo"]);
  });
});
