// Child processes of the benchmarks: each measured server runs in a process of its
// own, so that its work does not land on the process doing the measuring.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

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

/** Remember a child started elsewhere, so that `stopChildren` ends it too. */
export function adoptChild(child) {
  children.push(child);
  return child;
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

/** SIGTERM every child still running. */
export function stopChildren() {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
}
