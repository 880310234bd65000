import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

/** A `redis-server` of a test, on a loopback port, with no persistence. */
export interface RedisProcess {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Kill it at once (SIGKILL), as a crash would, and wait for it to exit. */
  kill(): Promise<void>;
  /** Start it again on the same port (empty: nothing was saved). */
  restart(): Promise<void>;
  /** Freeze it (SIGSTOP): connections stay open, commands get no answer, as a stalled Redis. */
  pause(): void;
  /** Let a frozen one go on (SIGCONT). */
  resume(): void;
  /** Stop it for good (SIGTERM, then wait). */
  stop(): Promise<void>;
}

/** A free loopback port: one the system hands out, released at once for the caller. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function redisServerPath(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === "")
    throw new Error(
      "redis-server is not installed: apt-get install -y redis-server (.ci/run installs it)",
    );
  return path;
}

function launch(path: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    path,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start: ${output}`)),
      10_000,
    );
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
}

function exitOf(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  return exited;
}

/** Start `redis-server --port N --bind 127.0.0.1 --save '' --appendonly no`; resolves once it accepts connections. */
export async function startRedisServer(): Promise<RedisProcess> {
  const path = redisServerPath();
  const port = await freePort();
  let child = await launch(path, port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => exitOf(child, "SIGKILL"),
    async restart() {
      await exitOf(child, "SIGKILL");
      child = await launch(path, port);
    },
    pause: () => {
      child.kill("SIGSTOP");
    },
    resume: () => {
      child.kill("SIGCONT");
    },
    async stop() {
      child.kill("SIGCONT");
      await exitOf(child, "SIGTERM");
    },
  };
}
