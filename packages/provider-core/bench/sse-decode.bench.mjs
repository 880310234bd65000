// SSE decode throughput: the core's decoder (eventsource-parser framing + JSON.parse +
// zod validation), as providers use it (`SseEventDecoder`, one call per body piece),
// against eventsource-parser alone and against the parser plus JSON.parse, on the
// same bytes in one run.
// Usage: node bench/sse-decode.bench.mjs [--mb 50] [--rounds 3] [--json out.json]
// The root benchmark imports `measureSseDecode` from here.
import { writeFileSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createParser } from "eventsource-parser";
import { SseEventDecoder } from "../dist/index.js";
import { openAIChatChunkSchema } from "../dist/internal.js";

const pieceSize = 16 * 1024;

function buildStream(targetBytes) {
  const encoder = new TextEncoder();
  const frames = [];
  let size = 0;
  for (let index = 0; size < targetBytes; index++) {
    const chunk = {
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "gpt-4o-mini",
      choices: [{ index: 0, delta: { content: `token ${index} ünïcödé ` }, finish_reason: null }],
    };
    const frame = `data: ${JSON.stringify(chunk)}\n\n`;
    frames.push(frame);
    size += Buffer.byteLength(frame);
  }
  frames.push("data: [DONE]\n\n");
  const bytes = encoder.encode(frames.join(""));
  const pieces = [];
  for (let offset = 0; offset < bytes.length; offset += pieceSize)
    pieces.push(bytes.subarray(offset, offset + pieceSize));
  return { bytes, pieces, events: frames.length - 1 };
}

async function* replay(pieces) {
  for (const piece of pieces) yield piece;
}

async function bareParser(pieces) {
  let events = 0;
  const parser = createParser({ onEvent: () => events++ });
  const decoder = new StringDecoder("utf8");
  for await (const piece of replay(pieces)) parser.feed(decoder.write(piece));
  return events - 1;
}

async function parserAndJson(pieces) {
  let events = 0;
  const parser = createParser({
    onEvent: (message) => {
      if (message.data !== "[DONE]") {
        JSON.parse(message.data);
        events++;
      }
    },
  });
  const decoder = new StringDecoder("utf8");
  for await (const piece of replay(pieces)) parser.feed(decoder.write(piece));
  return events;
}

async function coreDecoder(pieces) {
  let events = 0;
  const decoder = new SseEventDecoder({ provider: "bench", schema: openAIChatChunkSchema });
  for await (const piece of replay(pieces)) {
    events += decoder.push(piece).length;
    if (decoder.done) break;
  }
  return events;
}

async function timeOnce(name, run, stream) {
  globalThis.gc?.();
  const started = process.hrtime.bigint();
  const events = await run(stream.pieces);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (events !== stream.events)
    throw new Error(`${name} decoded ${events} events, expected ${stream.events}`);
  return seconds;
}

/**
 * Decode the same `megabytes` of OpenAI-style SSE with each decoder; the best of
 * `rounds` each, the rounds interleaved so that drift in the machine's speed hits
 * every decoder alike.
 */
export async function measureSseDecode({ megabytes = 50, rounds = 3 } = {}) {
  const stream = buildStream(megabytes * 1024 * 1024);
  const decoders = [
    ["eventsource-parser alone", bareParser],
    ["eventsource-parser + JSON.parse", parserAndJson],
    ["core decoder (parse + JSON + zod)", coreDecoder],
  ];
  for (const [, run] of decoders) await run(stream.pieces.slice(0, 64)).catch(() => {});
  const best = decoders.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < rounds; round++) {
    for (const [index, [name, run]] of decoders.entries())
      best[index] = Math.min(best[index], await timeOnce(name, run, stream));
  }
  const [bare, withJson, core] = decoders.map(([name], index) => ({
    name,
    seconds: best[index],
    megabytesPerSecond: stream.bytes.length / 1024 / 1024 / best[index],
  }));
  return {
    bytes: stream.bytes.length,
    events: stream.events,
    rounds,
    bare,
    withJson,
    core,
    ratio: core.megabytesPerSecond / bare.megabytesPerSecond,
    ratioToJson: core.megabytesPerSecond / withJson.megabytesPerSecond,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      mb: { type: "string", default: "50" },
      json: { type: "string" },
      rounds: { type: "string", default: "3" },
    },
  });
  const result = await measureSseDecode({
    megabytes: Number(values.mb),
    rounds: Number(values.rounds),
  });
  console.log(
    `SSE decode, ${(result.bytes / 1024 / 1024).toFixed(1)} MB, ${result.events} events, best of ${result.rounds}, Node ${process.version}`,
  );
  for (const row of [result.bare, result.withJson, result.core]) {
    console.log(
      `  ${row.name.padEnd(36)} ${row.megabytesPerSecond.toFixed(1).padStart(8)} MB/s  (${row.seconds.toFixed(3)} s)`,
    );
  }
  console.log(
    `  core / parser alone: ${result.ratio.toFixed(2)}x; core / parser + JSON.parse: ${result.ratioToJson.toFixed(2)}x`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}
