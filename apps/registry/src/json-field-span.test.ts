import { describe, expect, it } from "vitest";
import { topLevelFieldSpan } from "./json-field-span.js";

function spanText(text: string, field = "messages"): string | undefined {
  const bytes = Buffer.from(text);
  const span = topLevelFieldSpan(bytes, field);
  return span === undefined ? undefined : bytes.toString("utf8", span.start, span.end);
}

describe("topLevelFieldSpan", () => {
  it("finds the exact text of a field's value among others of every kind", () => {
    const text =
      '{"model":"m","n":-1.5e3,"ok":true,"no":null,"list":[1,{"a":"]"}],"messages":[{"role":"user","content":"hi"}],"stream":false}';
    expect(spanText(text)).toBe('[{"role":"user","content":"hi"}]');
    expect(spanText(text, "n")).toBe("-1.5e3");
    expect(spanText(text, "stream")).toBe("false");
    expect(spanText(text, "model")).toBe('"m"');
  });

  it("steps over escaped quotes, backslashes and braces inside strings", () => {
    const value = '[{"content":"a \\" } ] { [ \\\\","x":"\\\\\\"\\\\"}]';
    const text = `{"before":"\\\\","messages":${value},"after":"}"}`;
    expect(spanText(text)).toBe(value);
    expect(JSON.parse(spanText(text) ?? "")).toEqual(JSON.parse(text).messages);
  });

  it("reads whitespace, a byte order mark and multi-byte characters as JSON.parse does", () => {
    const value = '[ { "content" : "héllo 😀 \\u00e9" } ]';
    const text = `\ufeff \n{ "model" : "m" ,\r\n\t"messages" :  ${value}  \n}\n`;
    expect(spanText(text)).toBe(value);
  });

  it("takes the last of a field given twice, as JSON.parse does", () => {
    expect(spanText('{"messages":[1],"messages":[2]}')).toBe("[2]");
  });

  it("reads an escaped key as the name it decodes to", () => {
    expect(spanText('{"m\\u0065ssages":[3]}')).toBe("[3]");
    expect(spanText('{"messages\\u0020":[3]}')).toBeUndefined();
  });

  it("counts the key-value pairs at every depth of the value", () => {
    const bytes = Buffer.from(
      '{"messages":[{"role":"user","content":[{"type":"text","text":"a:b"}]},{"a":{"b":{}}}]}',
    );
    expect(topLevelFieldSpan(bytes, "messages")?.pairs).toBe(6);
    const duplicate = Buffer.from('{"messages":[{"content":"a","content":"b"}]}');
    expect(topLevelFieldSpan(duplicate, "messages")?.pairs).toBe(2);
  });

  it("gives no span for a missing field or a text that is no object", () => {
    expect(spanText('{"model":"m"}')).toBeUndefined();
    expect(spanText("{}")).toBeUndefined();
    expect(spanText('[{"messages":[]}]')).toBeUndefined();
    expect(spanText('"messages"')).toBeUndefined();
    expect(spanText('{"messages":"unterminated')).toBeUndefined();
  });

  it("agrees with JSON.parse on generated objects written with random spacing", () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pieces = ["a", '"', "\\", "}", "]", "{", ":", ",", "é", "😀", "\n", " ", "\\u"];
    const text = (): string =>
      Array.from(
        { length: Math.floor(random() * 6) },
        () => pieces[Math.floor(random() * 13)],
      ).join("");
    const value = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 2 ? 4 : 6));
      if (kind === 0) return text();
      if (kind === 1) return Math.round(random() * 1e6) / 100 - 5000;
      if (kind === 2) return random() < 0.5;
      if (kind === 3) return null;
      if (kind === 4)
        return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, () => [text(), value(depth + 1)]),
      );
    };
    const space = (): string => [" ", "", "\n", "\t", "\r\n"][Math.floor(random() * 5)] ?? "";
    const write = (item: unknown): string => {
      if (Array.isArray(item))
        return `[${space()}${item.map(write).join(`,${space()}`)}${space()}]`;
      if (typeof item === "object" && item !== null)
        return `{${space()}${Object.entries(item)
          .map(([key, inner]) => `${JSON.stringify(key)}${space()}:${space()}${write(inner)}`)
          .join(`${space()},`)}${space()}}`;
      return JSON.stringify(item);
    };
    for (let round = 0; round < 500; round++) {
      const body: Record<string, unknown> = {};
      for (let field = 0; field < 4; field++) body[text()] = value(0);
      body.messages = value(0);
      if (random() < 0.5) body[text()] = value(0);
      const written = write(body);
      expect(JSON.parse(spanText(written) ?? "undefined")).toEqual(JSON.parse(written).messages);
    }
  });
});
