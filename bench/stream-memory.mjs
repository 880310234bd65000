// `node bench/stream-memory.mjs [--streams 1000] [--deltas 60 --interval 200] [--snapshot]
// [--node-flags "..."] [--cli other/cli.js]`: the
// memory one open stream holds in the registry. Opens `--streams` streamed chat
// answers through one registry (AmigoChat against the bench upstream, deltas 200 ms
// apart so the streams stay open), in waves of 100, and reads the registry's RSS
// before and once all are open: the difference over the streams is the RSS per
// open stream. `--snapshot` also writes a heap snapshot of the registry with every
// stream open and prints its self size by constructor, the biggest first.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startChild, startRegistry, stopChildren } from "./processes.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const { values: flags } = parseArgs({
  options: {
    streams: { type: "string", default: "1000" },
    snapshot: { type: "boolean", default: false },
    cli: { type: "string" },
    top: { type: "string", default: "25" },
    deltas: { type: "string", default: "60" },
    interval: { type: "string", default: "200" },
    "node-flags": { type: "string", default: "" },
  },
});
const count = Number(flags.streams);

const upstream = await startChild([
  join(here, "upstream.mjs"),
  "--deltas",
  flags.deltas,
  "--interval",
  flags.interval,
]);
const snapshotDirectory = mkdtempSync(join(tmpdir(), "g4f-stream-memory-"));
const { child, origin } = await startRegistry(
  "stream-memory",
  [
    {
      id: "amigochat",
      use: "@g4f-ts/provider-amigochat",
      options: { baseUrl: `http://127.0.0.1:${upstream.info.healthy}`, retry: { maxAttempts: 1 } },
    },
  ],
  {
    nodeFlags: [
      "--heapsnapshot-signal=SIGUSR2",
      `--diagnostic-dir=${snapshotDirectory}`,
      ...flags["node-flags"].split(" ").filter((flag) => flag !== ""),
    ],
    ...(flags.cli === undefined ? {} : { cli: flags.cli }),
  },
);

function rssMegabytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
  stream: true,
});

/** Open one stream; resolves once its first bytes are in, and keeps reading it. */
function openStream(finished) {
  return new Promise((resolve, reject) => {
    const call = request(
      `${origin}/v1/chat/completions`,
      { method: "POST", agent, headers: { "content-type": "application/json" } },
      (response) => {
        let first = true;
        response.on("data", () => {
          if (first) {
            first = false;
            resolve();
          }
        });
        response.on("end", finished);
      },
    );
    call.on("error", reject);
    call.end(body);
  });
}

// Warm up: a few streams whole, so that code and pools are in place before the base.
await Promise.all(Array.from({ length: 20 }, () => new Promise((done) => openStream(done))));
await new Promise((resolve) => setTimeout(resolve, 1000));
const before = rssMegabytes(child.pid);
let ended = 0;
// The peak while the streams run, sampled every 50 ms.
let peak = before;
const sampler = setInterval(() => {
  peak = Math.max(peak, rssMegabytes(child.pid));
}, 50);
for (let wave = 0; wave < count; wave += 100) {
  await Promise.all(
    Array.from({ length: Math.min(100, count - wave) }, () => openStream(() => ended++)),
  );
}
const open = count - ended;
const after = rssMegabytes(child.pid);
if (!flags.snapshot) {
  while (ended < count) await new Promise((resolve) => setTimeout(resolve, 100));
  clearInterval(sampler);
  console.log(`peak RSS while they ran: ${peak.toFixed(1)} MB, all ${count} ended`);
}
console.log(
  `registry RSS ${before.toFixed(1)} MB before, ${after.toFixed(1)} MB with ${open} of ${count} streams open: ${(((after - before) * 1024) / count).toFixed(1)} KB a stream`,
);
if (flags.snapshot) {
  child.kill("SIGUSR2");
  let file;
  for (let wait = 0; wait < 600 && file === undefined; wait++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    file = readdirSync(snapshotDirectory).find((name) => name.endsWith(".heapsnapshot"));
    if (file !== undefined) {
      // Written once its size stops growing.
      let size = -1;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const now = readFileSync(join(snapshotDirectory, file)).byteLength;
        if (now === size) break;
        size = now;
      }
    }
  }
  if (file !== undefined) summarize(join(snapshotDirectory, file));
}
stopChildren();
process.exit(0);

/** Self size and count by constructor (or by type for strings, code, arrays), the biggest first. */
function summarize(path) {
  const snapshot = JSON.parse(readFileSync(path, "utf8"));
  const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
  const width = fields.length;
  const typeIndex = fields.indexOf("type");
  const nameIndex = fields.indexOf("name");
  const sizeIndex = fields.indexOf("self_size");
  const typeNames = types[typeIndex];
  const totals = new Map();
  let all = 0;
  for (let offset = 0; offset < snapshot.nodes.length; offset += width) {
    const type = typeNames[snapshot.nodes[offset + typeIndex]];
    const size = snapshot.nodes[offset + sizeIndex];
    const key =
      type === "object" || type === "closure"
        ? `${type} ${snapshot.strings[snapshot.nodes[offset + nameIndex]]}`
        : `(${type})`;
    const total = totals.get(key) ?? { size: 0, count: 0 };
    total.size += size;
    total.count++;
    totals.set(key, total);
    all += size;
  }
  console.log(`heap: ${(all / 1024 / 1024).toFixed(1)} MB; per open stream by constructor:`);
  for (const [key, { size, count: items }] of [...totals]
    .sort((left, right) => right[1].size - left[1].size)
    .slice(0, Number(flags.top)))
    console.log(
      `${(size / 1024 / 1024).toFixed(2).padStart(8)} MB ${String(items).padStart(8)}  ${(size / open).toFixed(0).padStart(7)} B/stream  ${key}`,
    );
}
