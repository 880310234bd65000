// The provider call's fixed cost per request, in process: the CPU one call of a
// provider's `createAsyncGenerator` costs against a bare undici request of the same
// body, so that the providers' share is measured apart from the registry's and from
// the noise of the machine (the three variants run in interleaved rounds, so a busy
// moment lands on all of them alike).
//
// It starts bench/upstream.mjs in a child process (one delta, unpaced: the upstream
// of the `json` sections of run.mjs), then, at concurrency `--concurrency` (50), runs
// `--calls` (2000) calls of each variant per round, for `--rounds` (5) rounds:
//   amigochat  AmigoChat's createAsyncGenerator(model, messages, { stream: true, signal })
//              read to the end through its batched view (as the registry reads it);
//   openai     OpenAICompatible's, the same;
//   amigochat-client  AmigoChat's with messages that carry the client's JSON text of
//              them, as the registry's do for a request body of 32 KiB or more (see
//              attachMessagesJson): the body then goes as that text spliced between
//              the other fields (here on a short conversation, to see that path's
//              fixed cost);
//   bare       an undici Pool request of an equivalent streaming body, its body read to
//              the end and its one SSE event parsed with JSON.parse.
// It prints CPU µs per call (process.cpuUsage, user + system, this process only) per
// round, the median of each variant, and the ratios provider / bare.
//
//   npx pnpm@10.34.8 build && node bench/provider-call.mjs [--calls 2000] [--rounds 5] [--concurrency 50]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/provider-call.mjs --only amigochat
//
// `--baseline /path/to/other/checkout` adds `amigochat-baseline` and `openai-baseline`
// (and `attempt-baseline`): the same calls through that checkout's built packages (a
// before/after in one run).
// `attempt` (in the default run) is AmigoChat's call as the registry makes it: through
// the registry's `TimedAttempt` (its deadlines, its cancellation handed to the provider),
// read batch by batch to the end.
// `--baseline-first` loads the baseline checkout before this one (the first loaded
// runs slower: read an after/before both ways round).
// `--interleaved` (with `--baseline`) measures each variant against its baseline one
// call at a time, alternating (concurrency 1, the CPU of each call on its own, `--calls`
// pairs): on a busy machine a load that comes and goes lands on both alike.
// `--counts` prints, instead of the CPU, the promises (an async_hooks counter) and
// the heap (bytes allocated, measured between two collections) per call of each
// variant, over `--calls` calls one after the other: run it as
//   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 bench/provider-call.mjs --counts --calls 1000 --baseline <checkout>
// (without --expose-gc, the promises only; a young generation that starts small may
// collect in between and spoil the heap figure). Both are exact where the CPU is noisy.
//
// `--only amigochat,openai` runs some variants (for a profile of one of them);
// `--only amigochat-control,bare-amigo-wire,amigochat,bare` splits AmigoChat's ratio to
// the bare request: `amigochat-control` is its call under a `CallControl` (as the
// registry's attempt hands it: no `AbortSignal`, which Node 20 takes some 12-17 µs to
// make, plus ~5 µs for a listener on it), `bare-amigo-wire` the bare request with
// AmigoChat's 17 headers and 10-field body (what its wire costs undici);
// `--only transport,reader,amigochat,bare` adds the layers below a provider:
// `transport` (the core's sendRequest, body read as text) and `reader` (that plus
// readOpenAIChatResponse), `pipeline` (the core's CallPipeline with that reader), to see which layer a cost is in.
import { createHook } from "node:async_hooks";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  CallControl,
  CallPipeline,
  chunkBatchesOf,
  closeDispatchers,
  readOpenAIChatResponse,
  sendRequest,
  withCallControl,
} from "@g4f-ts/provider-core";
import { attachMessagesJson } from "@g4f-ts/provider-core/internal";
import { Pool } from "undici";
import { startChild, stopChildren } from "./processes.mjs";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "2000" },
    rounds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "50" },
    only: { type: "string", default: "amigochat,openai,attempt,bare" },
    baseline: { type: "string" },
    "baseline-first": { type: "boolean", default: false },
    interleaved: { type: "boolean", default: false },
    counts: { type: "boolean", default: false },
  },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const only = values.only.split(",");

const here = fileURLToPath(new URL(".", import.meta.url));
const upstream = await startChild([join(here, "upstream.mjs"), "--deltas", "1", "--interval", "0"]);
const origin = `http://127.0.0.1:${upstream.info.healthy}`;

const messages = [{ role: "user", content: "Hello" }];
const expected = "Hello from the bench upstream!";

// The providers of a checkout: this one, or the `--baseline` one (its packages built).
async function providersOf(root) {
  const { AmigoChat } = await import(`${root}/packages/provider-amigochat/dist/index.js`);
  const { OpenAICompatible } = await import(
    `${root}/packages/provider-openai-compatible/dist/index.js`
  );
  const { closeDispatchers, sendRequest } = await import(
    `${root}/packages/provider-core/dist/index.js`
  );
  const { TimedAttempt } = await import(`${root}/apps/registry/dist/attempt-stream.js`);
  const { defaultAttemptTimeouts } = await import(`${root}/apps/registry/dist/config.js`);
  return {
    sendRequest,
    TimedAttempt,
    defaultAttemptTimeouts,
    amigoChat: new AmigoChat({ baseUrl: origin, retry: { maxAttempts: 1 } }),
    openAI: new OpenAICompatible({
      id: "openai",
      baseUrl: `${origin}/v1`,
      models: ["gpt-4o-mini"],
      retry: { maxAttempts: 1 },
    }),
    closeDispatchers,
  };
}
const root = fileURLToPath(new URL("..", import.meta.url));
const { amigoChatHeaders } = await import(`${root}/packages/provider-amigochat/dist/internal.js`);
// The checkout loaded first runs measurably slower here (its own copies of undici and
// the core, compiled first): `--baseline-first` loads the baseline first, so that a
// before/after can be read both ways round.
const baselineEarly =
  values.baseline !== undefined && values["baseline-first"]
    ? await providersOf(values.baseline)
    : undefined;
const current = await providersOf(root);
const { amigoChat, openAI } = current;
const baseline =
  baselineEarly ?? (values.baseline === undefined ? undefined : await providersOf(values.baseline));

// The registry's messages of a large request: made per request, carrying the
// client's JSON text of them (as the registry attaches it from 32 KiB on), which a
// provider may send as those bytes.
const messagesText = Buffer.from(JSON.stringify(messages));
function clientMessages() {
  const fresh = messages.map((message) => ({ ...message }));
  attachMessagesJson(fresh, messagesText);
  return fresh;
}

// The registry's call: stream true, the attempt's own abort signal.
async function providerCall(provider, callMessages = messages, underControl = false) {
  const answer = provider.createAsyncGenerator(
    "gpt-4o-mini",
    callMessages,
    underControl
      ? withCallControl({ stream: true }, new CallControl())
      : { stream: true, signal: new AbortController().signal },
  );
  let text = "";
  for await (const batch of chunkBatchesOf(answer))
    for (const chunk of batch) if (typeof chunk === "string") text += chunk;
  if (text !== expected) throw new Error(`unexpected answer ${JSON.stringify(text)}`);
}

// The registry's attempt of AmigoChat's call (see `TimedAttempt`), read as the
// fallback engine reads a committed answer: batch by batch.
async function attemptCall(providers) {
  const attempt = new providers.TimedAttempt(
    providers.amigoChat,
    "gpt-4o-mini",
    messages,
    { stream: true },
    undefined,
    providers.defaultAttemptTimeouts,
  );
  let text = "";
  for (;;) {
    const batch = await attempt.nextBatch();
    if (batch.done) break;
    for (const chunk of batch.value) if (typeof chunk === "string") text += chunk;
  }
  if (text !== expected) throw new Error(`unexpected answer ${JSON.stringify(text)}`);
}

// A bare request of the same weight: the body serialised, sent, read and its SSE
// event parsed; no timers, no abort, no typed errors.
const pool = new Pool(origin, { connections: concurrency, keepAliveTimeout: 10_000 });
async function bareCall(amigoChatWire = false) {
  const body = JSON.stringify(
    amigoChatWire
      ? {
          chatId: crypto.randomUUID(),
          frequency_penalty: 0,
          max_tokens: 4000,
          messages: messages.map(({ role, content }) => ({ role, content })),
          model: "gpt-4o-mini",
          personaId: "amigo",
          presence_penalty: 0,
          stream: true,
          temperature: 0.5,
          top_p: 0.95,
        }
      : {
          model: "gpt-4o-mini",
          messages: messages.map(({ role, content }) => ({ role, content })),
          stream: true,
        },
  );
  const response = await pool.request({
    path: "/v1/chat/completions",
    method: "POST",
    headers: amigoChatWire
      ? amigoChatHeaders(crypto.randomUUID())
      : { "content-type": "application/json" },
    body,
  });
  const raw = await response.body.text();
  let text = "";
  for (const line of raw.split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    const content = JSON.parse(line.slice(6)).choices[0]?.delta?.content;
    if (typeof content === "string") text += content;
  }
  if (text !== expected) throw new Error(`unexpected answer ${JSON.stringify(text)}`);
}

// The layers of a call, for finding where its cost goes (not run by default):
// `transport` the core's sendRequest with its body read as text, `reader` that plus
// the OpenAI reader's parse of the answer (no pipeline, no provider).
const chatUrl = `${origin}/v1/chat/completions`;
function coreRequest(send = sendRequest) {
  return send({
    provider: "bench",
    url: chatUrl,
    method: "POST",
    headers: { "content-type": "application/json" },
    json: { model: "gpt-4o-mini", messages, stream: true },
    signal: new AbortController().signal,
  });
}
async function transportCall(send) {
  const text = await (await coreRequest(send)).text();
  if (!text.includes(expected)) throw new Error("unexpected answer");
}
async function readerCall() {
  let text = "";
  for await (const chunk of readOpenAIChatResponse(coreRequest(), { provider: "bench" }))
    if (typeof chunk === "string") text += chunk;
  if (text !== expected) throw new Error(`unexpected answer ${JSON.stringify(text)}`);
}

// The core's CallPipeline alone (options read, deadline, retries of one attempt,
// the OpenAI reader), without a provider's model table, body or headers.
const pipeline = new CallPipeline({ provider: "bench", retry: { maxAttempts: 1 } });
async function pipelineCall() {
  const call = pipeline.start(messages, { stream: true, signal: new AbortController().signal });
  const answer = call.chat({
    url: chatUrl,
    headers: { "content-type": "application/json" },
    body: { model: "gpt-4o-mini", messages, stream: true },
  });
  let text = "";
  for await (const batch of chunkBatchesOf(answer))
    for (const chunk of batch) if (typeof chunk === "string") text += chunk;
  if (text !== expected) throw new Error(`unexpected answer ${JSON.stringify(text)}`);
}

const variants = {
  pipeline: pipelineCall,
  amigochat: () => providerCall(amigoChat),
  openai: () => providerCall(openAI),
  "amigochat-client": () => providerCall(amigoChat, clientMessages()),
  "openai-client": () => providerCall(openAI, clientMessages()),
  attempt: () => attemptCall(current),
  bare: () => bareCall(),
  "amigochat-control": () => providerCall(amigoChat, messages, true),
  "bare-amigo-wire": () => bareCall(true),
  transport: () => transportCall(sendRequest),
  reader: readerCall,
};
if (baseline !== undefined) {
  variants["amigochat-baseline"] = () => providerCall(baseline.amigoChat);
  variants["openai-baseline"] = () => providerCall(baseline.openAI);
  variants["amigochat-client-baseline"] = () => providerCall(baseline.amigoChat, clientMessages());
  variants["attempt-baseline"] = () => attemptCall(baseline);
  variants["transport-baseline"] = () => transportCall(baseline.sendRequest);
  for (const name of ["amigochat", "openai", "amigochat-client", "attempt", "transport"])
    if (only.includes(name)) only.push(`${name}-baseline`);
}

/** `count` calls of `call`, `concurrency` at a time; CPU µs per call. */
async function measure(call, count) {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await call();
    }
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const selected = Object.keys(variants).filter((name) => only.includes(name));

/** CPU µs of one call of `call`, measured alone. */
async function cpuOfOneCall(call) {
  const before = process.cpuUsage();
  await call();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}
if (values.interleaved && baseline !== undefined) {
  for (const name of selected.filter((name) => variants[`${name}-baseline`] !== undefined)) {
    const after = variants[name];
    const before = variants[`${name}-baseline`];
    for (let index = 0; index < 2000; index++) {
      await after();
      await before();
    }
    let afterTotal = 0;
    let beforeTotal = 0;
    for (let index = 0; index < calls; index++) {
      // Alternate which goes first.
      if (index % 2 === 0) {
        afterTotal += await cpuOfOneCall(after);
        beforeTotal += await cpuOfOneCall(before);
      } else {
        beforeTotal += await cpuOfOneCall(before);
        afterTotal += await cpuOfOneCall(after);
      }
    }
    console.log(
      `${name}: ${(afterTotal / calls).toFixed(1)} µs, ${name}-baseline ${(beforeTotal / calls).toFixed(1)} µs: ${(afterTotal / beforeTotal).toFixed(3)}x (${calls} interleaved calls each, one at a time)`,
    );
  }
  await pool.close();
  await closeDispatchers();
  await baseline.closeDispatchers();
  stopChildren();
  process.exit(0);
}
/** Promises and heap bytes per call of `call`, over `count` calls one after the other. */
async function countPerCall(call, count) {
  for (let index = 0; index < 300; index++) await call();
  let promises = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === "PROMISE") promises++;
    },
  });
  hook.enable();
  for (let index = 0; index < count; index++) await call();
  hook.disable();
  let heapBytes;
  if (typeof globalThis.gc === "function") {
    // Between two collections, with a young generation large enough that none runs
    // in between (--min- and --max-semi-space-size), the heap grows by what the calls allocate.
    const heapCalls = Math.min(count, 300);
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    for (let index = 0; index < heapCalls; index++) await call();
    heapBytes = (process.memoryUsage().heapUsed - before) / heapCalls;
  }
  return { promises: promises / count, heapBytes };
}

if (values.counts) {
  for (const name of selected) {
    const { promises, heapBytes } = await countPerCall(variants[name], calls);
    const heap = heapBytes === undefined ? "" : `  heap ${(heapBytes / 1024).toFixed(1)} KB`;
    console.log(`${name}: promises ${promises.toFixed(1)}${heap} per call`);
  }
  await pool.close();
  await closeDispatchers();
  await baseline?.closeDispatchers();
  stopChildren();
  process.exit(0);
}
// Warm-up: JIT, the connection pools.
for (const name of selected) await measure(variants[name], Math.min(calls, 1000));

const perRound = Object.fromEntries(selected.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  // Rotate the order, so that no variant always runs after the same one.
  const order = selected.map((_, index) => selected[(index + round) % selected.length]);
  const line = [];
  for (const name of order) {
    const micros = await measure(variants[name], calls);
    perRound[name].push(micros);
    line.push(`${name} ${micros.toFixed(1)}`);
  }
  console.log(`round ${round + 1}: ${line.join("  ")} (µs CPU per call)`);
}

const median = (list) => {
  const sorted = [...list].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const medians = Object.fromEntries(selected.map((name) => [name, median(perRound[name])]));
console.log(
  `median µs CPU per call: ${selected.map((name) => `${name} ${medians[name].toFixed(1)}`).join("  ")}`,
);
if (medians.bare !== undefined) {
  for (const name of selected.filter((name) => name !== "bare")) {
    // Per round, against the bare call of the same round.
    const ratios = perRound[name].map((micros, index) => micros / perRound.bare[index]);
    console.log(
      `${name} / bare: ${median(ratios).toFixed(2)}x (rounds ${ratios.map((ratio) => ratio.toFixed(2)).join(" ")})`,
    );
  }
}

// After / before in the same rounds, when a baseline runs beside.
for (const name of selected.filter((name) => perRound[`${name}-baseline`] !== undefined)) {
  const ratios = perRound[name].map(
    (micros, index) => micros / perRound[`${name}-baseline`][index],
  );
  console.log(
    `${name} / ${name}-baseline: ${median(ratios).toFixed(2)}x (rounds ${ratios.map((ratio) => ratio.toFixed(2)).join(" ")})`,
  );
}

await pool.close();
await closeDispatchers();
await baseline?.closeDispatchers();
stopChildren();
