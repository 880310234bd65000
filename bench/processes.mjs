// Child processes of the benchmarks: each measured server runs in a process of its
// own, so that its work does not land on the process doing the measuring.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const cliPath = fileURLToPath(new URL("../apps/registry/dist/cli.js", import.meta.url));

const children = [];

/** Start `node ...args`; resolves with the JSON line it prints first on stdout. */
export function startChild(args, env = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (data) => {
      buffered += data;
      const newline = buffered.indexOf("\n");
      if (newline >= 0) resolve({ child, info: JSON.parse(buffered.slice(0, newline)) });
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}

/** A loopback port nobody listens on right now. */
export async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  return port;
}

/** Resolves once `origin/healthz` answers 200 (10 s at most). */
export async function waitForHealth(origin) {
  for (let tries = 0; tries < 200; tries++) {
    try {
      const response = await fetch(`${origin}/healthz`);
      if (response.ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${origin} did not become healthy`);
}

/**
 * `g4f-ts serve` in a child of its own, on a free loopback port, with a config of
 * `providers` (and `extra` top-level fields), silent; `nodeFlags` go before the
 * script (`--cpu-prof`); `cli` another build's `cli.js` (a baseline). Resolves with the child and its origin once `/healthz`
 * answers.
 */
export async function startRegistry(
  name,
  providers,
  { extra = {}, nodeFlags = [], cli = cliPath } = {},
) {
  const directory = mkdtempSync(join(tmpdir(), `g4f-bench-${name}-`));
  const configPath = join(directory, "config.json");
  writeFileSync(configPath, JSON.stringify({ providers, logLevel: "silent", ...extra }, null, 2));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      cli,
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--config",
      configPath,
    ],
    { env: { ...process.env, AMIGOCHAT_BASE_URL: "" }, stdio: ["ignore", "ignore", "inherit"] },
  );
  children.push(child);
  const origin = `http://127.0.0.1:${port}`;
  await waitForHealth(origin);
  return { child, origin };
}

/** SIGTERM every child still running. */
export function stopChildren() {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
}
