import { describe, expect, it } from "vitest";
import { createFaultSchedule } from "./faults.js";
import type { RecordedRequest } from "./test-server.js";

function recorded(index: number, path = "/v1/chat/completions"): RecordedRequest {
  return { index, method: "POST", path, url: path, headers: {}, bodyText: "", json: undefined };
}

describe("createFaultSchedule", () => {
  it("answers every request healthily without a plan", () => {
    const next = createFaultSchedule(undefined);
    expect(next(recorded(0))).toBeUndefined();
  });

  it("consumes a list one fault per request, in order, then answers healthily", () => {
    const next = createFaultSchedule([
      { kind: "drop" },
      undefined,
      { kind: "status", status: 503 },
    ]);
    expect([0, 1, 2, 3].map((index) => next(recorded(index)))).toEqual([
      { kind: "drop" },
      undefined,
      { kind: "status", status: 503 },
      undefined,
    ]);
  });

  it("does not change the list it was given", () => {
    const plan = [{ kind: "empty" } as const];
    createFaultSchedule(plan)(recorded(0));
    expect(plan).toEqual([{ kind: "empty" }]);
  });

  it("asks a function plan about each request", () => {
    const next = createFaultSchedule((request) =>
      request.path.endsWith("/images/generations") ? { kind: "html-block" } : undefined,
    );
    expect(next(recorded(0))).toBeUndefined();
    expect(next(recorded(1, "/v1/images/generations"))).toEqual({ kind: "html-block" });
  });
});
