// Where one request's CPU goes, kernel or JavaScript, on the registry and the bare
// passthrough: each server in a child of its own gets a fixed number of requests
// at c=50 (after a warm-up) twice. First untraced, reading the user and system CPU
// of its main thread and of its other threads (V8's GC helpers, libuv's pool) from
// /proc; then under `strace -c -f`, counting its system calls. Syscall counts do
// not move with the machine's load, and with the split they say whether a server's
// excess is in the kernel (more writes, reads, timers per request) or in the
// JavaScript of its main thread. Linux only; it needs `strace` (`apt-get install
// strace`), and is not part of `pnpm bench`.
//
//   npx pnpm@10.34.8 build && node bench/syscalls.mjs [--stream] [--requests 4000]
//   node bench/syscalls.mjs --baseline /tmp/perf-base7   (adds that checkout's registry)
//
// It prints, per server, the CPU µs per request (main thread user and system, other
// threads), then each syscall made at least once per 20 requests, as calls per
// request. futex and epoll_pwait count the threads waiting for work (libuv's
// pool, V8's GC helpers), not work done per request.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { startChild, startRegistry, stopChildren } from "./processes.mjs";

const { values: flags } = parseArgs({
  options: {
    stream: { type: "boolean", default: false },
    requests: { type: "string", default: "4000" },
    baseline: { type: "string" },
  },
});
if (spawnSync("strace", ["-V"]).status !== 0) {
  console.error("bench/syscalls.mjs needs strace on the PATH (apt-get install strace)");
  process.exit(1);
}

/** Linux's USER_HZ: /proc's CPU times are in these ticks. */
const clockTicksPerSecond = 100;
const here = fileURLToPath(new URL(".", import.meta.url));
const requests = Number(flags.requests);
const upstream = await startChild([join(here, "upstream.mjs"), "--deltas", "1", "--interval", "0"]);
const upstreamOrigin = `http://127.0.0.1:${upstream.info.healthy}`;
const providers = [
  {
    id: "amigochat",
    use: "@g4f-ts/provider-amigochat",
    options: { baseUrl: upstreamOrigin, retry: { maxAttempts: 1 } },
  },
];
const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
  stream: flags.stream,
});
const traceDirectory = mkdtempSync(join(tmpdir(), "g4f-syscalls-"));

const servers = [
  ["passthrough", () => startPassthrough()],
  ["registry", () => startRegistry("syscalls", providers)],
];
if (flags.baseline !== undefined) {
  const cli = join(flags.baseline, "apps/registry/dist/cli.js");
  servers.push(["registry-baseline", () => startRegistry("syscalls-base", providers, { cli })]);
}

console.log(
  `${flags.stream ? "streamed" : "JSON"} answers, ${requests} requests at c=50, syscalls per request`,
);
for (const [name, start] of servers) {
  const { child, origin } = await start();
  await load(origin, 1000);
  const cpuBefore = threadTimes(child.pid);
  await load(origin, requests);
  const cpu = cpuSplit(cpuBefore, threadTimes(child.pid), child.pid);
  const tracePath = join(traceDirectory, `${name}.txt`);
  const trace = spawn("strace", ["-c", "-f", "-p", String(child.pid), "-o", tracePath], {
    stdio: "ignore",
  });
  // strace prints nothing when attached; give it a moment to stop every thread.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await load(origin, requests);
  trace.kill("SIGINT");
  await once(trace, "exit");
  child.kill("SIGINT");
  await once(child, "exit");
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  const counts = parseStraceSummary(readFileSync(tracePath, "utf8"));
  const shown = [...counts]
    .filter(([, calls]) => calls * 20 >= requests)
    .sort((left, right) => right[1] - left[1])
    .map(([syscall, calls]) => `${syscall} ${(calls / requests).toFixed(2)}`);
  const perRequest = (ticks) => ((ticks * 1e6) / clockTicksPerSecond / requests).toFixed(1);
  console.log(
    `${name.padEnd(18)} CPU µs: main user ${perRequest(cpu.mainUser)}, main system ${perRequest(cpu.mainSystem)}, other threads ${perRequest(cpu.other)}`,
  );
  console.log(`${"".padEnd(18)} syscalls: ${shown.join(", ")}`);
}
stopChildren();

function load(origin, amount) {
  return autocannon({
    url: `${origin}/v1/chat/completions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections: 50,
    amount,
  });
}

async function startPassthrough() {
  const { child, info } = await startChild([join(here, "passthrough.mjs"), upstreamOrigin]);
  return { child, origin: `http://127.0.0.1:${info.port}` };
}

/** Each thread of `pid` → its user and system CPU ticks so far (/proc/<pid>/task/<tid>/stat). */
function threadTimes(pid) {
  const times = new Map();
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, "utf8");
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // Fields after the command name's closing parenthesis: state is the first, utime the 12th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    times.set(thread, { user: Number(fields[11]), system: Number(fields[12]) });
  }
  return times;
}

/** The ticks spent between two `threadTimes`: the main thread's user and system, the rest's. */
function cpuSplit(before, after, pid) {
  const split = { mainUser: 0, mainSystem: 0, other: 0 };
  for (const [thread, now] of after) {
    const then = before.get(thread) ?? { user: 0, system: 0 };
    if (thread === String(pid)) {
      split.mainUser += now.user - then.user;
      split.mainSystem += now.system - then.system;
    } else split.other += now.user - then.user + now.system - then.system;
  }
  return split;
}

/** `strace -c`'s table as syscall → calls. */
function parseStraceSummary(text) {
  const counts = new Map();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // % time, seconds, usecs/call, calls, [errors,] syscall
    if (fields.length < 5 || !/^\d/.test(fields[0] ?? "")) continue;
    const syscall = fields.at(-1);
    if (syscall === "total") continue;
    counts.set(syscall, Number(fields[3]));
  }
  return counts;
}
