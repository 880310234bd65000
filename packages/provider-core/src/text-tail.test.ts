import { describe, expect, it } from "vitest";
import { TextTail } from "./text-tail.js";

describe("TextTail", () => {
  it("keeps the whole text while it is shorter than the limit", () => {
    const tail = new TextTail(16);
    tail.append("Hello");
    tail.append("");
    tail.append(" fr");
    expect(tail.text()).toBe("Hello fr");
    expect(tail.length).toBe(8);
  });

  it("keeps only the last characters of a long text, and counts them all", () => {
    const tail = new TextTail(10);
    let whole = "";
    for (let index = 0; index < 1000; index++) {
      const piece = `${index},`;
      tail.append(piece);
      whole += piece;
    }
    expect(tail.length).toBe(whole.length);
    expect(tail.text()).toBe(whole.slice(-10));
  });

  it("cuts a single piece longer than the limit to its end", () => {
    const tail = new TextTail(4);
    tail.append("ab");
    tail.append("0123456789");
    expect(tail.text()).toBe("6789");
    tail.append("x");
    expect(tail.text()).toBe("789x");
    expect(tail.length).toBe(13);
  });
});
