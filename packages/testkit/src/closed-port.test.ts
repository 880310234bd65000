import { describe, expect, it } from "vitest";
import { closedPortUrl } from "./closed-port.js";

describe("closedPortUrl", () => {
  it("gives a 127.0.0.1 origin where connections are refused", async () => {
    const url = await closedPortUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const failure: unknown = await fetch(url).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as TypeError).cause).toMatchObject({ code: "ECONNREFUSED" });
  });
});
