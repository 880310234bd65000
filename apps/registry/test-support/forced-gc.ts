import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * `gc()`, also in a process started without `--expose-gc` (a vitest worker): the
 * flag set at run time exposes it in contexts made after that.
 */
export function forcedGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** The heap in use after full collections: what is really held, garbage aside. */
export function settledHeapBytes(): number {
  const gc = forcedGc();
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Heap plus the memory of buffers outside it, after full collections. */
export function settledMemoryBytes(): number {
  const gc = forcedGc();
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}
