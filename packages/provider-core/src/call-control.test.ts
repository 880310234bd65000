import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { caught, localServersPerTest, waitUntil } from "../test-support/local-server.js";
import {
  CallControl,
  callControlKey,
  callControlOf,
  optionsRecord,
  withCallControl,
} from "./call-control.js";
import { CallOptionsReader } from "./call-options.js";
import { CallPipeline } from "./call-pipeline.js";
import { chunkBatchesOf } from "./chunk-batches.js";
import { AbortError, ProviderError, TimeoutError } from "./provider-errors.js";
import { callOptionsShape } from "./provider-options.js";
import type { Chunk } from "./response-chunks.js";

const { serve } = localServersPerTest();

const NativeAbortController = globalThis.AbortController;
afterEach(() => {
  globalThis.AbortController = NativeAbortController;
});

/** Counts the `AbortController`s made from now on (an `AbortSignal` is made with each). */
function countAbortControllers(): () => number {
  let made = 0;
  globalThis.AbortController = class extends NativeAbortController {
    constructor() {
      super();
      made++;
    }
  };
  return () => made;
}

const messages = [{ role: "user" as const, content: "Hi" }];

describe("CallControl", () => {
  it("tells its listeners once, in the order they were added, and not one removed", () => {
    const control = new CallControl();
    const told: string[] = [];
    const removed = () => told.push("removed");
    control.addEventListener("abort", () => told.push("first"));
    control.addEventListener("abort", removed);
    control.addEventListener("abort", () => told.push("second"));
    control.removeEventListener("abort", removed);
    const reason = new Error("gone");
    control.abort(reason);
    control.abort(new Error("again"));
    control.addEventListener("abort", () => told.push("after"));
    expect(told).toEqual(["first", "second"]);
    expect(control).toMatchObject({ aborted: true, reason });
  });

  it("makes no AbortSignal until its signal is read, and aborts that one with the same reason", () => {
    const made = countAbortControllers();
    const control = new CallControl();
    expect(made()).toBe(0);
    const signal = control.signal;
    expect(control.signal).toBe(signal);
    const reason = new Error("gone");
    control.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    const late = new CallControl();
    late.abort(reason);
    expect(late.signal.reason).toBe(reason);
    expect(made()).toBe(2);
  });
});

describe("options under a control", () => {
  it("give a provider that knows only signal an AbortSignal that aborts with the control", () => {
    const control = new CallControl();
    const options = withCallControl({ stream: true, temperature: 0.5 }, control);
    const { signal } = options;
    expect(signal).toBeInstanceOf(AbortSignal);
    control.abort(new Error("gone"));
    expect(signal?.aborted).toBe(true);
  });

  it("pass a strict reader of option names (the core's schema before the control existed)", () => {
    const control = new CallControl();
    const options = withCallControl({ stream: true, temperature: 0.5 }, control);
    const strict = z.strictObject(callOptionsShape);
    // A copy, as such a reader makes one, keeps the control and turns signal into a value.
    const parsed = strict.parse({ ...options });
    expect(parsed.signal).toBe(control.signal);
    expect(Object.keys(options).sort()).toEqual(["signal", "stream", "temperature"]);
    expect(callControlOf({ ...options })).toBe(control);
  });

  it("are read by the core without reading their signal", () => {
    const made = countAbortControllers();
    const control = new CallControl();
    const options = withCallControl({ stream: true, temperature: 0.5 }, control);
    expect(optionsRecord(options)).toEqual({ stream: true, temperature: 0.5 });
    const read = new CallOptionsReader("Example", {}).read(options);
    expect(read).toEqual({ stream: true, temperature: 0.5 });
    expect(made()).toBe(0);
    // Options without a control keep their signal.
    const signal = AbortSignal.abort();
    expect(optionsRecord({ stream: true, signal })).toEqual({ stream: true, signal });
  });

  it("with a control of another copy of the core are left to their signal", () => {
    const foreign = { aborted: false, signal: AbortSignal.abort() };
    const options = { stream: true, signal: foreign.signal, [callControlKey]: foreign };
    expect(callControlOf(options)).toBeUndefined();
    expect(optionsRecord(options)).toMatchObject({ stream: true, signal: foreign.signal });
  });
});

/** A chat call of the core's pipeline under `control`, to a local server. */
function pipelineCall(
  url: string,
  control: CallControl,
  settings: Partial<ConstructorParameters<typeof CallPipeline>[0]> = {},
) {
  const pipeline = new CallPipeline({
    provider: "Example",
    retry: { maxAttempts: 1 },
    ...settings,
  });
  const call = pipeline.start(messages, withCallControl({ stream: true }, control));
  const answer = call.chat({ url, body: { model: "m", messages, stream: true } });
  return { call, batches: chunkBatchesOf(answer)[Symbol.asyncIterator]() };
}

function sseDelta(content: string): string {
  return `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
}

describe("a call of the pipeline under a control", () => {
  it("reads its answer without making an AbortSignal, and is ended by the control's abort with an AbortError carrying the reason", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(sseDelta("Hel"));
    });
    const made = countAbortControllers();
    const control = new CallControl();
    const { batches } = pipelineCall(`${server.url}/v1/chat/completions`, control);
    const first = await batches.next();
    expect(first.value as Chunk[]).toContain("Hel");
    const reading = caught(batches.next());
    const reason = new Error("the client left");
    control.abort(reason);
    const error = await reading;
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).cause).toBe(reason);
    expect(made()).toBe(0);
    await waitUntil(() => server.sockets.size === 0, 10_000);
  });

  it("fails with the core's own first-byte timeout while a router's deadline shares the clock", async () => {
    const server = await serve(() => {});
    const control = new CallControl();
    const routerFired: string[] = [];
    const { DeadlineTimer } = await import("./deadline-timer.js");
    const router = new DeadlineTimer(
      10_000,
      20_000,
      { onPhase: () => void routerFired.push("phase"), onTotal: () => routerFired.push("total") },
      control.clock,
    );
    const { batches } = pipelineCall(`${server.url}/v1/chat/completions`, control, {
      timeouts: { firstByteMs: 100 },
    });
    const error = await caught(batches.next());
    router.stop();
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "first-byte", timeoutMs: 100 });
    expect(routerFired).toEqual([]);
  });

  it("fails with the core's idle timeout when the body stalls, as under a signal", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(sseDelta("Hel"));
    });
    const control = new CallControl();
    const { batches } = pipelineCall(`${server.url}/v1/chat/completions`, control, {
      timeouts: { idleMs: 100 },
    });
    await batches.next();
    const error = await caught(batches.next());
    // After content the reader reports the cut with its cause.
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/idle/);
  });

  it("ends a retry's wait at once when the control aborts", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(503, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "busy" } }));
    });
    const control = new CallControl();
    const { batches } = pipelineCall(`${server.url}/v1/chat/completions`, control, {
      retry: { maxAttempts: 2, baseDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const reading = caught(batches.next());
    await waitUntil(() => server.requests.length === 1);
    const started = Date.now();
    // The first attempt's 503 leads to the wait; abort during it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    control.abort(new Error("the client left"));
    expect(await reading).toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.requests).toHaveLength(1);
  });

  it("stops at once without a request when the control is already aborted", async () => {
    const server = await serve((_request, response) => response.end());
    const control = new CallControl();
    control.abort(new Error("gone"));
    const { batches } = pipelineCall(`${server.url}/v1/chat/completions`, control);
    expect(await caught(batches.next())).toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(0);
  });
});
