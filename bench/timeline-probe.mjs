// Preloaded into a proxy's process by `bench/timeline.mjs` (`node --import
// ./timeline-probe.mjs ...`): it records when each stage of a request happened,
// from events Node and undici publish anyway (diagnostics_channel) plus the
// moment a byte is handed to a client socket, and writes them to the file named by
// G4F_TIMELINE_OUT when the process exits. The requests must come one at a time
// (the timeline tool sends them so): every event belongs to the request that
// started last. Times are CLOCK_MONOTONIC microseconds, the clock of V8's CPU
// profiles, so the tool can cut a `--cpu-prof` profile along the same stages.
import diagnosticsChannel from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";
import { Socket } from "node:net";

const outputPath = process.env.G4F_TIMELINE_OUT;
/** One array per request: [stage, microseconds] pairs in the order they happened. */
const requests = [];
let current;

const microseconds = () => Number(process.hrtime.bigint() / 1000n);
const record = (stage) => current?.push([stage, microseconds()]);

diagnosticsChannel.subscribe("http.server.request.start", () => {
  current = [["request", microseconds()]];
  requests.push(current);
});
diagnosticsChannel.subscribe("http.server.response.finish", () => record("finish"));
// The proxy's own upstream call: its head written, the answer's head, its end.
diagnosticsChannel.subscribe("undici:client:sendHeaders", () => record("upstreamWrite"));
diagnosticsChannel.subscribe("undici:request:headers", () => record("upstreamHead"));
diagnosticsChannel.subscribe("undici:request:trailers", () => record("upstreamEnd"));

// A server's sockets carry `server`: a write on one is a write to the client, made
// just before the system call.
const { _write: write, _writev: writev } = Socket.prototype;
Socket.prototype._write = function (data, encoding, callback) {
  if (this.server) record("clientWrite");
  return write.call(this, data, encoding, callback);
};
Socket.prototype._writev = function (chunks, callback) {
  if (this.server) record("clientWrite");
  return writev.call(this, chunks, callback);
};

process.on("exit", () => {
  if (outputPath !== undefined) writeFileSync(outputPath, JSON.stringify(requests));
});
