import { describe, expect, it } from "vitest";
import { isJsonContentType } from "./json-content-type.js";

describe("isJsonContentType", () => {
  it("takes JSON and +json types in any case, with a UTF-8 charset or none", () => {
    for (const header of [
      "application/json",
      "Application/JSON",
      " application/json ",
      "application/json; charset=utf-8",
      'application/json;charset="UTF-8"',
      "application/vnd.api+json",
      "application/json; boundary=x",
    ])
      expect(isJsonContentType(header), header).toBe(true);
  });

  it("refuses other types, other charsets and no header", () => {
    for (const header of [
      undefined,
      "",
      "text/plain",
      "application/jsonx",
      "application/json; charset=latin1",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ])
      expect(isJsonContentType(header), String(header)).toBe(false);
  });
});
