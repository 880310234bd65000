import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * The heap in use after full collections: what is really held, garbage aside. Works
 * in a process started without `--expose-gc` (a vitest worker): the flag set at run
 * time exposes `gc` in contexts made after that.
 */
export function settledHeapBytes(): number {
  const exposed = (globalThis as { gc?: () => void }).gc;
  let gc = exposed;
  if (typeof gc !== "function") {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
