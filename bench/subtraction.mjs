// A subtraction study of the registry's edge (everything before `registry.run(`)
// under real load: what a piece costs is what removing it saves. For each piece,
// a scratch copy of the built `apps/registry/dist` gets that piece stubbed out
// (a string edit of the compiled JavaScript, which must match exactly once), and
// `floor.mjs` measures it beside this checkout's unmodified registry, two
// registries at a time so that each stubbed build runs next to the unmodified one
// in every block. Read the "/ registry" column: the stubbed build's CPU per request
// over the unmodified one's, median over the blocks (0.95: the piece costs 5%).
//
// The stubs are for measuring only: they drop behaviour (a fixed request id, no
// access log, a constant body...) and answer only the bench's own request.
//
//   npx pnpm@10.34.8 build && node bench/subtraction.mjs [--pieces edge,close] [--blocks 16]
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = fileURLToPath(new URL(".", import.meta.url));
const registryRoot = join(here, "../apps/registry");

/** Each piece: the edits `[file of dist, exact text, replacement]` that remove it. */
const pieces = {
  // The client's `x-request-id` check or a new random UUID.
  "request-id": [
    [
      "server.js",
      "const requestId = requestIdOf(request);",
      'const requestId = "0b9c2f7e-3a1d-4c55-9d7e-2f1e8a6b4c3d";',
    ],
  ],
  // The response's `close` listener (abort when the client leaves) and the
  // connection's answers in progress (for client errors) it keeps.
  close: [
    [
      "server.js",
      `        let answering = this.#answering.get(socket);
        if (answering === undefined) {
            answering = [];
            this.#answering.set(socket, answering);
        }
        answering.push(response);`,
      "",
    ],
    [
      "server.js",
      `        response.on("close", () => {
            leave(answering, response);
            if (!response.writableFinished)
                controller.abort(new AbortError({ message: "The client closed the request" }));
        });`,
      "",
    ],
  ],
  // The open requests graceful shutdown waits for.
  "open-requests": [
    ["server.js", "this.#open.add(exchange);", ""],
    ["server.js", "this.open.delete(this);", ""],
  ],
  // The host allowlist, CORS, the API keys and the content type.
  checks: [
    ["server.js", "if (!this.#hosts.accepts(host))", "if (false)"],
    ["server.js", "this.#cors.decorate(request, response);", ""],
    ["server.js", "this.#access.check(route, request.headers);", ""],
    [
      "server.js",
      'if (route.method === "POST" && !isJsonContentType(request.headers["content-type"]))',
      "if (false)",
    ],
  ],
  // The request metrics and the access log (silent in the bench: its level check).
  "access-log": [["server.js", "logAccess(this.registry, this.registry.logger, this);", ""]],
  // Reading the body and its JSON.parse: the bench's body as a constant (Node dumps the unread body).
  "body-read": [
    [
      "request-body.js",
      "new JsonBodyRead(request, limitBytes, receiver).start();",
      'receiver.bodyRead({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] });',
    ],
  ],
  // Validating the chat request: the first request's result for every request.
  "chat-parse": [
    [
      "chat-completions.js",
      "const request = parseChatRequest(body, registry.config.server);",
      "const request = (globalThis.subtractedRequest ??= parseChatRequest(body, registry.config.server));",
    ],
  ],
  // Finding the candidates of the model: the first request's for every request.
  resolve: [
    [
      "chat-completions.js",
      'const candidates = registry.resolve(request.model, pinned, "chat");',
      'const candidates = (globalThis.subtractedCandidates ??= registry.resolve(request.model, pinned, "chat"));',
    ],
  ],
  // The client's identity for the cooldown's fairness (a hash cached per connection).
  identity: [
    [
      "chat-completions.js",
      "client: clientIdentity(context.request, registry.config.server.apiKeys.length > 0),",
      'client: "abcdefabcdefabcdefabcd",',
    ],
  ],
  // The server's settings (connection checks, timeouts) and the connection cap: Node's defaults.
  "http-settings": [
    [
      "server.js",
      "createServer({ connectionsCheckingInterval: Math.min(5_000, Math.max(100, headersTimeoutMs / 4)) }, handler.listener);",
      "createServer(handler.listener);",
    ],
    ["server.js", "httpServer.requestTimeout = Math.max(120_000, headersTimeoutMs);", ""],
    ["server.js", "httpServer.headersTimeout = headersTimeoutMs;", ""],
    ["server.js", "capConnections(httpServer, maxConnections ?? defaultMaxConnections());", ""],
  ],
};
// Every piece of the edge at once: what the whole edge costs.
pieces.edge = Object.entries(pieces)
  .filter(([name]) => name !== "http-settings")
  .flatMap(([, edits]) => edits);

const { values } = parseArgs({
  options: {
    pieces: { type: "string", default: Object.keys(pieces).join(",") },
    blocks: { type: "string", default: "16" },
    seconds: { type: "string", default: "1" },
  },
});

const scratch = join(tmpdir(), `g4f-subtraction-${process.pid}`);
/** A copy of the registry's dist with `edits` applied; returns its `cli.js`. */
function stubbedBuild(name, edits) {
  const root = join(scratch, name, "apps/registry");
  mkdirSync(root, { recursive: true });
  cpSync(join(registryRoot, "dist"), join(root, "dist"), { recursive: true });
  // The packages resolve from the real checkout (Node follows the links).
  symlinkSync(join(registryRoot, "node_modules"), join(root, "node_modules"));
  symlinkSync(join(registryRoot, "package.json"), join(root, "package.json"));
  for (const [file, text, replacement] of edits) {
    const path = join(root, "dist", file);
    const source = readFileSync(path, "utf8");
    const found = source.split(text).length - 1;
    if (found !== 1)
      throw new Error(`${name}: the text to stub is found ${found} times in ${file}: ${text}`);
    writeFileSync(
      path,
      source.replace(text, () => replacement),
    );
  }
  return join(root, "dist/cli.js");
}

try {
  for (const name of values.pieces.split(",")) {
    const edits = pieces[name];
    if (edits === undefined) throw new Error(`no piece "${name}" (pieces: ${Object.keys(pieces)})`);
    const cli = stubbedBuild(name, edits);
    const floor = spawnSync(
      process.execPath,
      [
        join(here, "floor.mjs"),
        "--only",
        `registry,${name}`,
        "--registry",
        `${name}=${cli}`,
        "--blocks",
        values.blocks,
        "--seconds",
        values.seconds,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    const line = floor.stdout.split("\n").find((text) => text.startsWith(`${name} `));
    console.log(line ?? `${name}: floor.mjs failed (${floor.status})`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
