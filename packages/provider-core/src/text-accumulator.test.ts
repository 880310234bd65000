import { describe, expect, it } from "vitest";
import { settledHeapBytes } from "../test-support/settled-heap.js";
import { TextAccumulator } from "./text-accumulator.js";

describe("TextAccumulator", () => {
  it("gathers pieces in order, across many blocks", () => {
    const text = new TextAccumulator();
    let whole = "";
    for (let index = 0; index < 2000; index++) {
      const piece = `${index} `;
      expect(text.append(piece)).toBe(true);
      whole += piece;
    }
    expect(text.toString()).toBe(whole);
    expect(text.length).toBe(whole.length);
    text.append("end");
    expect(text.toString()).toBe(`${whole}end`);
  });

  it("refuses a piece that would pass the cap, and keeps what came before", () => {
    const text = new TextAccumulator(10);
    expect(text.append("12345")).toBe(true);
    expect(text.append("67890")).toBe(true);
    expect(text.append("x")).toBe(false);
    expect(text.toString()).toBe("1234567890");
    expect(text.length).toBe(10);
  });

  it("holds a text of one-character pieces at close to its own size (no rope node per piece)", () => {
    const pieces = 4_000_000;
    const before = settledHeapBytes();
    const text = new TextAccumulator();
    // Each piece is a fresh string, as one decoded from an SSE event is.
    for (let index = 0; index < pieces; index++)
      text.append(String.fromCharCode(97 + (index % 26)));
    const held = settledHeapBytes() - before;
    expect(text.length).toBe(pieces);
    // `+=` would hold a 32-byte rope node per piece: 128 MB here.
    expect(held).toBeLessThan(pieces * 2);
  });
});
