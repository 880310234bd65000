import { describe, expect, it } from "vitest";
import { caught, localServersPerTest, waitUntil } from "../test-support/local-server.js";
import { CallControl } from "./call-control.js";
import { DeadlineTimer } from "./deadline-timer.js";
import { type HttpRequestOptions, sendRequest } from "./http-client.js";
import { AbortError, ResponseStatusError, TimeoutError } from "./provider-errors.js";

// sendRequest under a caller's CallControl ends every call as it does under an
// AbortSignal: the same errors, the same causes, the same sockets closed.

const { serve } = localServersPerTest();

/** A way to cancel a call: its request options, and how to abort it. */
interface Cancellation {
  options: Pick<HttpRequestOptions, "signal" | "control">;
  abort(reason: unknown): void;
}

const cancellations: [string, () => Cancellation][] = [
  [
    "an AbortSignal",
    () => {
      const controller = new AbortController();
      return {
        options: { signal: controller.signal },
        abort: (reason) => controller.abort(reason),
      };
    },
  ],
  [
    "a CallControl",
    () => {
      const control = new CallControl();
      return { options: { control }, abort: (reason) => control.abort(reason) };
    },
  ],
];

describe.each(cancellations)("a call cancelled through %s", (_name, cancellation) => {
  it("closes the upstream socket at once on an abort mid-body, failing the read with an AbortError caused by the reason", async () => {
    const server = await serve((_request, response) => {
      response.write("data: start\n\n");
    });
    const { options, abort } = cancellation();
    const response = await sendRequest({ provider: "Example", url: server.url, ...options });
    const iterator = response.body[Symbol.asyncIterator]();
    await iterator.next();
    const reading = caught(iterator.next());
    const reason = new Error("the client left");
    abort(reason);
    const error = await reading;
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).cause).toBe(reason);
    await waitUntil(() => server.sockets.size === 0, 10_000);
  });

  it("closes the upstream socket on an abort while waiting for headers", async () => {
    const server = await serve(() => {});
    const { options, abort } = cancellation();
    const request = caught(sendRequest({ provider: "Example", url: server.url, ...options }));
    await waitUntil(() => server.requests.length === 1);
    abort(new Error("gone"));
    expect(await request).toBeInstanceOf(AbortError);
    await waitUntil(() => server.sockets.size === 0, 10_000);
  });

  it("fails at once without a request when already aborted", async () => {
    const server = await serve((_request, response) => response.end());
    const { options, abort } = cancellation();
    const reason = new Error("gone");
    abort(reason);
    const error = await caught(sendRequest({ provider: "Example", url: server.url, ...options }));
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).cause).toBe(reason);
    expect(server.requests).toHaveLength(0);
  });

  it("is not touched by an abort after the body was read to its end", async () => {
    const server = await serve((_request, response) => response.end("all of it"));
    const { options, abort } = cancellation();
    const response = await sendRequest({ provider: "Example", url: server.url, ...options });
    expect(await response.text()).toBe("all of it");
    abort(new Error("late"));
    response.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.sockets.size).toBe(1);
  });

  it("fires the first-byte timeout when the headers do not come", async () => {
    const server = await serve(() => {});
    const { options } = cancellation();
    const error = await caught(
      sendRequest({
        provider: "Example",
        url: server.url,
        timeouts: { firstByteMs: 100 },
        ...options,
      }),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "first-byte", timeoutMs: 100 });
  });

  it("fires the idle timeout when the body stalls between chunks", async () => {
    const server = await serve((_request, response) => {
      response.write("first");
    });
    const { options } = cancellation();
    const response = await sendRequest({
      provider: "Example",
      url: server.url,
      timeouts: { idleMs: 100 },
      ...options,
    });
    const error = await caught(response.text());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "idle", timeoutMs: 100 });
  });

  it("fires the total timeout on a body that keeps dripping", async () => {
    const server = await serve((_request, response) => {
      const timer = setInterval(() => response.write("."), 20);
      response.on("close", () => clearInterval(timer));
    });
    const { options } = cancellation();
    const error = await caught(
      sendRequest({
        provider: "Example",
        url: server.url,
        timeouts: { totalMs: 200, idleMs: 1000 },
        ...options,
      }).then((response) => response.text()),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "total", timeoutMs: 200 });
  });

  it("turns a non-2xx answer into its status error with the upstream's message", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(502, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "bad gateway upstream" } }));
    });
    const { options } = cancellation();
    const error = await caught(sendRequest({ provider: "Example", url: server.url, ...options }));
    expect(error).toBeInstanceOf(ResponseStatusError);
    expect(error).toMatchObject({ status: 502 });
    expect((error as Error).message).toContain("bad gateway upstream");
  });

  it("fails with the abort, not the status, when aborted while a non-2xx body is read", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(500, { "content-type": "text/plain" });
      response.write("the start of an error");
    });
    const { options, abort } = cancellation();
    const request = caught(sendRequest({ provider: "Example", url: server.url, ...options }));
    await waitUntil(() => server.requests.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    abort(new Error("gone"));
    expect(await request).toBeInstanceOf(AbortError);
  });
});

describe("sendRequest", () => {
  it("answers a request it can not send with a rejected promise, never a throw", async () => {
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = sendRequest({ provider: "Example", url: "not a url" });
    }).not.toThrow();
    expect(await caught(promise as Promise<unknown>)).toBeInstanceOf(Error);
  });

  it("puts a call's deadlines on its control's clock beside the caller's, each failing with its own error", async () => {
    const server = await serve((_request, response) => {
      response.write("first");
    });
    const control = new CallControl();
    const callerFired: string[] = [];
    const caller = new DeadlineTimer(
      150,
      10_000,
      { onPhase: () => void callerFired.push("phase"), onTotal: () => callerFired.push("total") },
      control.clock,
    );
    const response = await sendRequest({
      provider: "Example",
      url: server.url,
      control,
      timeouts: { idleMs: 50 },
    });
    const error = await caught(response.text());
    expect(error).toMatchObject({ phase: "idle", timeoutMs: 50 });
    expect(callerFired).toEqual([]);
    await waitUntil(() => callerFired.length === 1);
    expect(callerFired).toEqual(["phase"]);
    caller.stop();
  });
});
