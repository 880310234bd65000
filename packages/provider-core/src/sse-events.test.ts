import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  InvalidResponseError,
  PaymentRequiredError,
  RateLimitError,
  ResponseStatusError,
} from "./provider-errors.js";
import { decodeSseStream, SseEventDecoder } from "./sse-events.js";

const schema = z.object({ text: z.string() });

async function* pieces(parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === "string" ? new TextEncoder().encode(part) : part;
}

async function collect(parts: (string | Uint8Array)[], invalidJson: "skip" | "fail" = "skip") {
  const stream = decodeSseStream(pieces(parts), { provider: "Example", schema, invalidJson });
  const values: string[] = [];
  for await (const value of stream) values.push(value.text);
  return { values, done: stream.done };
}

/** Every way of cutting `bytes` in two. */
function splitsOf(bytes: Uint8Array): Uint8Array[][] {
  const result: Uint8Array[][] = [];
  for (let cut = 0; cut <= bytes.length; cut++)
    result.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  return result;
}

const sample = 'data: {"text":"héllo"}\n\ndata: {"text":"wörld 🌍"}\n\ndata: [DONE]\n\n';

describe("decodeSseStream", () => {
  it("decodes events and stops at [DONE]", async () => {
    expect(await collect([sample])).toEqual({ values: ["héllo", "wörld 🌍"], done: true });
  });

  it("gives the same events however the bytes are split, mid-line and mid multi-byte character", async () => {
    const bytes = new TextEncoder().encode(sample);
    for (const parts of splitsOf(bytes)) {
      expect(await collect(parts)).toEqual({ values: ["héllo", "wörld 🌍"], done: true });
    }
  });

  it("decodes bad UTF-8 bytes as U+FFFD just as a StringDecoder over the same pieces does, wherever the pieces end", async () => {
    const { StringDecoder } = await import("node:string_decoder");
    const encoder = new TextEncoder();
    const bodies = [
      [0xc3, 0x41], // a lead byte without its continuation
      [0x80, 0x41], // a continuation byte alone
      [0xe2, 0x82], // a character cut short, then the quote
      [0xf0, 0x9f, 0x8c, 0x8d, 0xed, 0xa0, 0x80], // an emoji, then a surrogate's bytes
    ].map((bad) =>
      Uint8Array.from([
        ...encoder.encode('data: {"text":"a'),
        ...bad,
        ...encoder.encode('é"}\n\ndata: [DONE]\n\n'),
      ]),
    );
    for (const bytes of bodies) {
      for (const parts of [...splitsOf(bytes), Array.from(bytes, (byte) => Uint8Array.of(byte))]) {
        const reference = new StringDecoder("utf8");
        const text =
          parts.map((part) => reference.write(Buffer.from(part))).join("") + reference.end();
        const expected = JSON.parse(text.slice("data: ".length, text.indexOf("\n"))).text;
        expect((await collect(parts)).values).toEqual([expected]);
      }
    }
  });

  it("gives the same events when every byte arrives alone", async () => {
    const bytes = new TextEncoder().encode(sample.replaceAll("\n", "\r\n"));
    const single = Array.from(bytes, (byte) => Uint8Array.of(byte));
    expect(await collect(single)).toEqual({ values: ["héllo", "wörld 🌍"], done: true });
  });

  it("reads CRLF and CR line endings as LF", async () => {
    expect((await collect([sample.replaceAll("\n", "\r\n")])).values).toEqual([
      "héllo",
      "wörld 🌍",
    ]);
    expect((await collect([sample.replaceAll("\n", "\r")])).values).toEqual(["héllo", "wörld 🌍"]);
  });

  it("ignores comment lines and other fields", async () => {
    const text =
      ': keep-alive\n\nid: 1\nretry: 100\ndata: {"text":"a"}\n\n: ping\ndata: [DONE]\n\n';
    expect(await collect([text])).toEqual({ values: ["a"], done: true });
  });

  it("joins a multi-line data field with newlines before parsing", async () => {
    const text = 'data: {"text":\ndata: "multi"}\n\ndata: [DONE]\n\n';
    expect((await collect([text])).values).toEqual(["multi"]);
  });

  it("keeps a last event that lacks its blank line", async () => {
    expect(await collect(['data: {"text":"a"}\n\ndata: [DONE]'])).toEqual({
      values: ["a"],
      done: true,
    });
  });

  it("reports done false when the body ends without [DONE]", async () => {
    expect(await collect(['data: {"text":"a"}\n\n'])).toEqual({ values: ["a"], done: false });
  });

  it("skips a line that is not JSON by default, and fails on it when asked", async () => {
    const text = 'data: {not json\n\ndata: {"text":"a"}\n\ndata: [DONE]\n\n';
    expect((await collect([text])).values).toEqual(["a"]);
    await expect(collect([text], "fail")).rejects.toBeInstanceOf(InvalidResponseError);
  });

  it("fails with the path of the bad field when an event has the wrong shape", async () => {
    const error = await collect(['data: {"text":42}\n\n']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain("text:");
  });

  it("throws an error object inside the stream as a typed error, after the events before it", async () => {
    const values: string[] = [];
    const stream = decodeSseStream(
      pieces([
        'data: {"text":"a"}\n\ndata: {"error":{"message":"slow down","code":429}}\n\ndata: {"text":"b"}\n\n',
      ]),
      { provider: "Example", schema },
    );
    const error = await (async () => {
      for await (const value of stream) values.push(value.text);
    })().catch((caught: unknown) => caught);
    expect(values).toEqual(["a"]);
    expect(error).toBeInstanceOf(RateLimitError);
  });

  it("throws an `event: error` as a typed error, JSON or not", async () => {
    await expect(
      collect(['event: error\ndata: {"message":"your balance is not enough"}\n\n']),
    ).rejects.toBeInstanceOf(PaymentRequiredError);
    const plain = await collect(["event: error\ndata: upstream exploded\n\n"]).catch(
      (caught: unknown) => caught,
    );
    expect(plain).toBeInstanceOf(ResponseStatusError);
    expect((plain as Error).message).toContain("upstream exploded");
  });

  it("fails instead of buffering an endless event", async () => {
    const stream = decodeSseStream(pieces([`data: ${"x".repeat(2048)}`, "y".repeat(2048)]), {
      provider: "Example",
      schema,
      maxEventBytes: 1024,
    });
    await expect(
      (async () => {
        for await (const _ of stream) {
        }
      })(),
    ).rejects.toBeInstanceOf(InvalidResponseError);
  });
});

describe("SseEventDecoder", () => {
  it("hands back the events each piece completes, synchronously", () => {
    const decoder = new SseEventDecoder({ provider: "Example", schema });
    const encode = (text: string) => new TextEncoder().encode(text);
    expect(decoder.push(encode('data: {"text":"a"}\n'))).toEqual([]);
    expect(decoder.push(encode('\ndata: {"text":"b"}\n\ndata: {"te'))).toEqual([
      { text: "a" },
      { text: "b" },
    ]);
    expect(decoder.push(encode('xt":"c"}'))).toEqual([]);
    expect(decoder.end()).toEqual([{ text: "c" }]);
    expect(decoder.done).toBe(false);
  });

  it("keeps events in order around an error: the events before it first, then the error", () => {
    const decoder = new SseEventDecoder({ provider: "Example", schema });
    const events = decoder.push(
      new TextEncoder().encode(
        'data: {"text":"a"}\n\ndata: {"error":{"message":"quota","code":"rate_limit_exceeded"}}\n\ndata: {"text":"never"}\n\n',
      ),
    );
    expect(events).toEqual([{ text: "a" }]);
    expect(() => decoder.check()).toThrow(RateLimitError);
    expect(decoder.done).toBe(true);
    expect(() => decoder.check()).not.toThrow();
  });

  it("throws at once when the first event of a piece fails", () => {
    const decoder = new SseEventDecoder({ provider: "Example", schema });
    expect(() => decoder.push(new TextEncoder().encode('data: {"text":1}\n\n'))).toThrow(
      InvalidResponseError,
    );
  });

  it("skips a byte order mark before the first field, also when it arrives split", () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
    const decoder = new SseEventDecoder({ provider: "Example", schema });
    expect(decoder.push(bom.subarray(0, 2))).toEqual([]);
    expect(
      decoder.push(
        new Uint8Array([...bom.subarray(2), ...new TextEncoder().encode('data: {"text":"a"}\n\n')]),
      ),
    ).toEqual([{ text: "a" }]);
  });

  it("drops what follows [DONE]", () => {
    const decoder = new SseEventDecoder({ provider: "Example", schema });
    const events = decoder.push(
      new TextEncoder().encode('data: {"text":"a"}\n\ndata: [DONE]\n\ndata: {"text":"b"}\n\n'),
    );
    expect(events).toEqual([{ text: "a" }]);
    expect(decoder.done).toBe(true);
    expect(decoder.push(new TextEncoder().encode('data: {"text":"c"}\n\n'))).toEqual([]);
  });
});

describe("SseEventDecoder with an accepts check", () => {
  const schema = z.object({ n: z.number() }).transform((value) => ({ n: value.n * 10 }));
  const accepts = (json: unknown): json is { n: number } =>
    typeof json === "object" && json !== null && "fast" in json;
  const bytes = (text: string) => new TextEncoder().encode(text);

  it("takes an event the check passes as it is, and sends every other through the schema", () => {
    const decoder = new SseEventDecoder({ provider: "Example", schema, accepts });
    const events = decoder.push(bytes('data: {"n":1,"fast":true}\n\ndata: {"n":2}\n\n'));
    expect(events).toEqual([{ n: 1, fast: true }, { n: 20 }]);
  });

  it("still fails an event the check leaves to the schema when the schema rejects it", () => {
    const decoder = new SseEventDecoder({ provider: "Example", schema, accepts });
    expect(() => decoder.push(bytes('data: {"n":"one"}\n\n'))).toThrow(/unexpected shape/);
  });

  it("still turns an error object into the provider's error before any check", () => {
    const everything = (json: unknown): json is { n: number } => json !== undefined;
    const decoder = new SseEventDecoder({ provider: "Example", schema, accepts: everything });
    expect(() => decoder.push(bytes('data: {"error":{"message":"boom"}}\n\n'))).toThrow(/boom/);
  });
});
