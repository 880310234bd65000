import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { startFirehoseUpstream } from "../test-support/firehose-upstream.js";
import {
  type ServeProcess,
  startServeProcess,
  writeConfigFile,
} from "../test-support/serve-process.js";

/*
 * Issue 14's firehose: an upstream that streams 16 KiB pieces as fast as it can.
 * Ten such streams at once through one `g4f-ts serve` process for a minute must
 * keep its resident memory under 300 MB, and every stream must arrive whole: the
 * registry keeps counts of a stream, never its text. FIREHOSE_MS shortens or
 * lengthens the run.
 */

const durationMs = Number(process.env.FIREHOSE_MS ?? 60_000);
const streams = 10;
const rssLimitBytes = 300 * 1024 * 1024;

/** The resident memory of a process, from /proc (Linux). */
function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

interface StreamResult {
  status: number;
  /** Characters of `pieceCharacter` received: the answer's text length. */
  characters: number;
  bytes: number;
  /** The last bytes of the body. */
  tail: string;
}

/** A streamed chat read to its end, counting the piece character without keeping the body. */
function readFirehoseStream(url: string, name: string, pieceByte: number): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      agent: false,
    });
    outgoing.once("error", reject);
    outgoing.once("response", (incoming) => {
      let characters = 0;
      let bytes = 0;
      let tail = Buffer.alloc(0);
      incoming.on("data", (data: Buffer) => {
        bytes += data.byteLength;
        for (let index = 0; index < data.byteLength; index++)
          if (data[index] === pieceByte) characters++;
        tail = Buffer.concat([tail, data.subarray(-256)]).subarray(-256);
      });
      incoming.once("error", reject);
      incoming.once("end", () =>
        resolve({ status: incoming.statusCode ?? 0, characters, bytes, tail: tail.toString() }),
      );
    });
    outgoing.end(
      JSON.stringify({
        model: "firehose",
        stream: true,
        messages: [{ role: "user", content: name }],
      }),
    );
  });
}

/** `g4f-ts serve` as a child process with one OpenAI-compatible provider on the firehose. */
async function startFirehoseServe(upstreamUrl: string): Promise<ServeProcess> {
  const configPath = await writeConfigFile({
    discovery: { installed: false },
    providers: [
      {
        id: "firehose",
        use: "@g4f-ts/provider-openai-compatible",
        options: {
          baseUrl: `${upstreamUrl}/v1`,
          models: ["firehose"],
          streamUsage: false,
          retry: { maxAttempts: 1 },
        },
      },
    ],
  });
  return startServeProcess([...["--port", "0", "--config", configPath, "--log-level", "silent"]]);
}

describe("a firehose upstream", () => {
  it(
    `streams ${streams} concurrent firehose answers whole for ${durationMs / 1000} s with the serve process under 300 MB`,
    async () => {
      const upstream = await startFirehoseUpstream({ pieceLength: 16 * 1024, durationMs });
      const serve = await startFirehoseServe(upstream.server.url);
      const pid = serve.child.pid as number;
      let peak = residentBytes(pid);
      const samples: number[] = [];
      const sampler = setInterval(() => {
        if (serve.child.exitCode !== null || serve.child.signalCode !== null) return;
        const resident = residentBytes(pid);
        samples.push(resident);
        peak = Math.max(peak, resident);
      }, 200);
      try {
        const pieceByte = upstream.pieceCharacter.charCodeAt(0);
        const names = Array.from({ length: streams }, (_, index) => `firehose ${index}`);
        const results = await Promise.all(
          names.map((name) => readFirehoseStream(serve.url, name, pieceByte)),
        );
        clearInterval(sampler);
        const totalBytes = results.reduce((sum, result) => sum + result.bytes, 0);
        console.log(
          `firehose: ${streams} streams for ${durationMs / 1000} s, ${(totalBytes / 1e6).toFixed(0)} MB to the clients; serve RSS peak ${(peak / 1e6).toFixed(0)} MB, last ${((samples.at(-1) ?? 0) / 1e6).toFixed(0)} MB (${samples.length} samples)`,
        );
        expect(serve.child.exitCode).toBeNull();
        expect(serve.child.signalCode).toBeNull();
        results.forEach((result, index) => {
          expect(result.status, result.tail).toBe(200);
          expect(result.tail).not.toContain('"error"');
          expect(result.tail.endsWith("data: [DONE]\n\n")).toBe(true);
          expect(result.characters).toBe(upstream.sentCharacters.get(names[index] as string));
          expect(result.characters).toBeGreaterThan(0);
        });
        expect(peak).toBeLessThan(rssLimitBytes);
      } finally {
        clearInterval(sampler);
        if (serve.child.exitCode === null) serve.child.kill("SIGKILL");
        await upstream.server.close();
      }
    },
    durationMs + 60_000,
  );
  it(
    "answers a JSON client of a firehose with 502 answer_too_large at 32 MiB, and the serve process stays small and alive",
    async () => {
      const upstream = await startFirehoseUpstream({ pieceLength: 16 * 1024, durationMs });
      const serve = await startFirehoseServe(upstream.server.url);
      const pid = serve.child.pid as number;
      let peak = residentBytes(pid);
      const sampler = setInterval(() => {
        if (serve.child.exitCode === null && serve.child.signalCode === null)
          peak = Math.max(peak, residentBytes(pid));
      }, 100);
      try {
        const startedAt = performance.now();
        const response = await fetch(`${serve.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "firehose",
            messages: [{ role: "user", content: "json" }],
          }),
        });
        const body = (await response.json()) as { error: { code: string; message: string } };
        const seconds = (performance.now() - startedAt) / 1000;
        clearInterval(sampler);
        const after = residentBytes(pid);
        console.log(
          `firehose, JSON client: ${response.status} ${body.error?.code} after ${seconds.toFixed(1)} s; serve RSS peak ${(peak / 1e6).toFixed(0)} MB, after ${(after / 1e6).toFixed(0)} MB`,
        );
        expect(response.status).toBe(502);
        expect(body.error.code).toBe("answer_too_large");
        expect(body.error.message).toContain("33554432 bytes (server.answerLimitBytes)");
        expect(serve.child.exitCode).toBeNull();
        expect(peak).toBeLessThan(rssLimitBytes);
        // The next request is served as usual.
        const health = await fetch(`${serve.url}/healthz`);
        expect(health.status).toBe(200);
      } finally {
        clearInterval(sampler);
        if (serve.child.exitCode === null) serve.child.kill("SIGKILL");
        await upstream.server.close();
      }
    },
    durationMs + 60_000,
  );
});
