import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CallOptionsReader, readOptions } from "./call-options.js";
import { callOptionsShape, InvalidOptionsError } from "./provider-options.js";

const signal = new AbortController().signal;

// What the schema alone makes of `options`: the reading the plain path must match.
function readWithSchema(options: Record<string, unknown>, extras: z.ZodRawShape = {}): unknown {
  return readOptions(z.strictObject({ ...callOptionsShape, ...extras }), options, {
    provider: "Example",
    what: "call option",
    error: InvalidOptionsError,
  });
}

function outcome(read: () => unknown): unknown {
  try {
    const value = read() as Record<string, unknown>;
    // The keys in their order, and each value (the signal by identity).
    return { keys: Object.keys(value), entries: Object.entries(value) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const plainCalls: Record<string, unknown>[] = [
  {},
  { stream: true, signal },
  { signal, stream: false },
  { stream: undefined, signal: null, temperature: null },
  { timeout: 2.5, temperature: 0.2, topP: 1, maxTokens: 100, user: "someone" },
  { maxTokens: 5, stream: true, timeout: 3, logprobs: false },
  { frequencyPenalty: -1.5, presencePenalty: 2, topP: 0 },
];

const badOrOtherCalls: Record<string, unknown>[] = [
  { stream: "yes" },
  { timeout: 0 },
  { timeout: -1 },
  { timeout: Number.POSITIVE_INFINITY },
  { temperature: Number.NaN },
  { temperature: Number.NEGATIVE_INFINITY },
  { maxTokens: 1.5 },
  { maxTokens: 0 },
  { maxTokens: 2 ** 53 },
  { signal: {} },
  { user: 7 },
  { logprobs: 1 },
  { stream: true, temprature: 0.2 },
  { stream: true, seed: 7, stop: ["\n"] },
  { stream: true, tools: [{ type: "function", function: { name: "f" } }] },
];

describe("reading the call options", () => {
  it("gives a call of plain options exactly what the schema gives: the same keys, order and values", () => {
    const reader = new CallOptionsReader("Example", {});
    for (const options of plainCalls) {
      expect(outcome(() => reader.read(options))).toEqual(outcome(() => readWithSchema(options)));
    }
    expect(reader.read({ signal, stream: true }).signal).toBe(signal);
  });

  it("reads a call's own options only, as a copy of them would: an inherited one is not read", () => {
    const reader = new CallOptionsReader("Example", {});
    const inherited = Object.assign(Object.create({ temperature: 0.1 }), { stream: true });
    expect(reader.read(inherited)).toEqual({ stream: true });
    const unknownInherited = Object.assign(Object.create({ temprature: 0.1 }), { stream: true });
    expect(reader.read(unknownInherited)).toEqual({ stream: true });
    expect(reader.read(undefined)).toEqual({});
    expect(reader.read(null)).toEqual({});
  });

  it("gives a bad value or any other option the schema's reading, its error naming the same field", () => {
    const reader = new CallOptionsReader("Example", {});
    for (const options of badOrOtherCalls) {
      expect(outcome(() => reader.read(options))).toEqual(outcome(() => readWithSchema(options)));
    }
    expect(() => reader.read({ stream: "yes" })).toThrow(/invalid call option "stream"/);
    expect(() => reader.read({ maxTokens: 0 })).toThrow(InvalidOptionsError);
  });

  it("reads an option a provider redefines with the provider's schema, never the plain check", () => {
    const extras = { user: z.string().email().nullish() };
    const reader = new CallOptionsReader("Example", extras);
    expect(() => reader.read({ stream: true, user: "not an address" })).toThrow(
      /invalid call option "user"/,
    );
    const options = { stream: true, user: "someone@example.com" };
    expect(outcome(() => reader.read(options))).toEqual(
      outcome(() => readWithSchema(options, extras)),
    );
  });

  it("reads g4f's spelling of a plain option as its camelCase twin", () => {
    const reader = new CallOptionsReader("Example", {});
    expect(reader.read({ stream: true, max_tokens: 9, top_p: 0.5 })).toEqual({
      stream: true,
      topP: 0.5,
      maxTokens: 9,
    });
  });
});
