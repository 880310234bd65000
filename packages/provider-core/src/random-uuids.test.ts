import { describe, expect, it } from "vitest";
import { RandomUuids } from "./random-uuids.js";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("random uuids", () => {
  it("writes version 4 UUIDs after the prefix, each different, across several refills of the random bytes", () => {
    const ids = new RandomUuids("chatcmpl-");
    const seen = new Set<string>();
    for (let count = 0; count < 1000; count++) {
      const id = ids.next();
      expect(id.startsWith("chatcmpl-")).toBe(true);
      expect(id.slice("chatcmpl-".length)).toMatch(uuidPattern);
      seen.add(id);
    }
    expect(seen.size).toBe(1000);
  });

  it("writes bare UUIDs without a prefix, their digits spread over all sixteen values", () => {
    const ids = new RandomUuids();
    const digits = new Set<string>();
    for (let count = 0; count < 200; count++) {
      const id = ids.next();
      expect(id).toMatch(uuidPattern);
      for (const digit of id.replaceAll("-", "")) digits.add(digit);
    }
    expect(digits.size).toBe(16);
  });

  it("hands out strings that later ids do not change", () => {
    const ids = new RandomUuids("x-");
    const first = ids.next();
    const copy = `${first}`;
    ids.next();
    expect(first).toBe(copy);
  });
});
