// The registry's fallback engine for an answer sent in one piece, in process: the CPU
// one `registry.run(...)` + `collectAnswer(run)` costs (the commit search, the
// attempt and its timers, gathering the answer, the observers' bookkeeping), with an
// in-memory provider that answers each call with one batch, so that neither HTTP
// side nor a provider's reader is in the figure. Runs of `--in-flight` (50) at once,
// in blocks of `--runs` (4000).
//
// With `--baseline <checkout>` the same runs go through that checkout's built
// packages too (it must be built), block by block in alternating order, in the
// same process: a busy moment of the machine lands on both alike, and the figure
// to read is the median of after/before over the pairs of blocks.
//
//   npx pnpm@10.34.8 build && node bench/fallback-engine.mjs [--blocks 30] [--runs 4000] [--in-flight 50]
//   node --expose-gc bench/fallback-engine.mjs --baseline /tmp/perf-base7 --runs 20000 --blocks 20
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { inMemoryRegistry } from "./in-memory-registry.mjs";

const { values } = parseArgs({
  options: {
    baseline: { type: "string" },
    blocks: { type: "string", default: "30" },
    runs: { type: "string", default: "4000" },
    "in-flight": { type: "string", default: "50" },
  },
});

const blocks = Number(values.blocks);
const runsPerBlock = Number(values.runs);
const inFlight = Number(values["in-flight"]);

/** `count` whole answers through the engine of the checkout at `root`, `inFlight` at once. */
async function engineOf(root) {
  const { registry, registryPackage } = await inMemoryRegistry(root, async function* (core) {
    yield ["Hello from the bench upstream!", new core.FinishReason("stop")];
  });
  const candidates = registry.resolve("gpt-4o-mini", undefined, "chat");
  const one = async () => {
    const run = registry.run(candidates, {
      requestedModel: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hello" }],
      options: { stream: true },
      signal: undefined,
      logger: undefined,
    });
    const { answer } = await registryPackage.collectAnswer(run);
    if (answer.content !== "Hello from the bench upstream!") throw new Error("a wrong answer");
  };
  return async (count) => {
    let started = 0;
    const worker = async () => {
      while (started++ < count) await one();
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  };
}

/**
 * CPU µs (user + system) per run of one block of `engine`. With `--expose-gc` the
 * heap is collected before each block, so that no block pays for the garbage of
 * the one before it (the other build's, every other block).
 */
async function cpuPerRun(engine) {
  globalThis.gc?.();
  const start = process.cpuUsage();
  await engine(runsPerBlock);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / runsPerBlock;
}

const median = (list) => [...list].sort((left, right) => left - right)[Math.floor(list.length / 2)];

const here = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const engines = [{ name: "after", engine: await engineOf(here), figures: [] }];
if (values.baseline !== undefined)
  engines.push({ name: "before", engine: await engineOf(values.baseline), figures: [] });
for (const { engine } of [...engines, ...engines]) await engine(runsPerBlock); // warm-up
const ratios = [];
for (let block = 0; block < blocks; block++) {
  const order = block % 2 === 0 ? engines : [...engines].reverse();
  for (const entry of order) entry.figures.push(await cpuPerRun(entry.engine));
  if (engines.length === 2) ratios.push(engines[0].figures[block] / engines[1].figures[block]);
}
console.log(
  `CPU µs per whole answer through the fallback engine, median of ${blocks} blocks of ${runsPerBlock} (${inFlight} in flight):`,
);
for (const { name, figures } of engines)
  console.log(
    `  ${name.padEnd(7)} ${median(figures).toFixed(2)} (${Math.min(...figures).toFixed(2)}–${Math.max(...figures).toFixed(2)})`,
  );
if (ratios.length > 0)
  console.log(
    `  after/before per pair of blocks: median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
  );
