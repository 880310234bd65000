import { describe, expect, it } from "vitest";
import { ResponsesStore } from "./responses-store.js";

function entry(id: string, owner = "", text = "x") {
  return { id, owner, body: JSON.stringify({ id, text }), conversation: [] };
}

describe("ResponsesStore", () => {
  it("keeps a response for its owner only", () => {
    const store = new ResponsesStore({ maxEntries: 10, ttlSeconds: 60, maxBytes: 1_000_000 });
    store.put(entry("resp_1", "key-a"));
    expect(store.get("resp_1", "key-a")?.id).toBe("resp_1");
    expect(store.get("resp_1", "key-b")).toBeUndefined();
    expect(store.delete("resp_1", "key-b")).toBe(false);
    expect(store.delete("resp_1", "key-a")).toBe(true);
    expect(store.size).toBe(0);
  });

  it("forgets a response once its time to live has passed", () => {
    let now = 1_000;
    const store = new ResponsesStore(
      { maxEntries: 10, ttlSeconds: 5, maxBytes: 1_000_000 },
      () => now,
    );
    store.put(entry("resp_1"));
    now += 4_999;
    expect(store.get("resp_1", "")).toBeDefined();
    now += 1;
    expect(store.get("resp_1", "")).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });

  it("evicts the oldest responses past maxEntries and past maxBytes", () => {
    const byCount = new ResponsesStore({ maxEntries: 2, ttlSeconds: 60, maxBytes: 1_000_000 });
    for (const id of ["resp_1", "resp_2", "resp_3"]) byCount.put(entry(id));
    expect(byCount.get("resp_1", "")).toBeUndefined();
    expect(byCount.size).toBe(2);

    const one = entry("resp_a", "", "y".repeat(100));
    const size = Buffer.byteLength(one.body) + Buffer.byteLength("[]");
    const byBytes = new ResponsesStore({ maxEntries: 100, ttlSeconds: 60, maxBytes: size * 2 });
    byBytes.put(one);
    byBytes.put(entry("resp_b", "", "y".repeat(100)));
    byBytes.put(entry("resp_c", "", "y".repeat(100)));
    expect(byBytes.get("resp_a", "")).toBeUndefined();
    expect(byBytes.get("resp_c", "")).toBeDefined();
    expect(byBytes.bytes).toBeLessThanOrEqual(size * 2);
  });

  it("does not keep a response larger than maxBytes, and keeps nothing with maxEntries 0", () => {
    const small = new ResponsesStore({ maxEntries: 10, ttlSeconds: 60, maxBytes: 10 });
    expect(small.put(entry("resp_1", "", "y".repeat(100)))).toBe(false);
    expect(small.size).toBe(0);
    const none = new ResponsesStore({ maxEntries: 0, ttlSeconds: 60, maxBytes: 1_000_000 });
    expect(none.put(entry("resp_1"))).toBe(false);
  });
});
