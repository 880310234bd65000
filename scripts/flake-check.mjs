#!/usr/bin/env node
// The flake check: run a test file N times in a row while a busy loop burns every core,
// and report how many runs failed. A test that passes here does not lean on timing.
//
//   pnpm flake-check                                   # the fault matrix, 10 runs
//   pnpm flake-check -- --runs 5 --package apps/registry src/soak.test.ts
//   pnpm flake-check -- --burners 0                    # the same without the extra load
//
// Build first (`pnpm build`): the registry's tests spawn its dist/cli.js.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: "string", default: "10" },
    burners: { type: "string", default: String(availableParallelism()) },
    package: { type: "string", default: "apps/registry" },
  },
});
const runs = Number(values.runs);
const burnerCount = Number(values.burners);
const files = positionals.length > 0 ? positionals : ["src/fault-matrix.test.ts"];
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(burnerCount) || burnerCount < 0) {
  console.error("--runs must be a positive integer and --burners a non-negative one");
  process.exit(2);
}

// The package's own vitest, as its `test` script would run it.
const packageDirectory = join(root, values.package);
const vitestBin = join(
  dirname(createRequire(join(packageDirectory, "package.json")).resolve("vitest/package.json")),
  "vitest.mjs",
);

/** One node process spinning on a core until it is killed. */
function startBurner() {
  return spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
}

const burners = Array.from({ length: burnerCount }, startBurner);
/** The vitest run in progress, stopped with the burners when the check is interrupted. */
let current;
const stopBurners = () => {
  for (const burner of burners) if (burner.exitCode === null) burner.kill("SIGKILL");
  if (current !== undefined && current.exitCode === null) current.kill("SIGTERM");
};
process.once("exit", stopBurners);
for (const signal of ["SIGINT", "SIGTERM"])
  process.once(signal, () => {
    stopBurners();
    process.exit(130);
  });

/** Run vitest once; resolve with its exit code, its duration and the names of failed tests. */
function runOnce() {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [vitestBin, "run", ...files], {
    cwd: packageDirectory,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  current = child;
  let output = "";
  child.stdout.on("data", (data) => {
    output += data;
  });
  child.stderr.on("data", (data) => {
    output += data;
  });
  return new Promise((resolve) => {
    child.once("close", (code) => {
      // vitest marks a failed test with ×/FAIL; keep those lines for the report.
      const failed = output
        .replace(/\x1b\[[0-9;]*m/g, "")
        .split("\n")
        .filter(
          (line) =>
            /^\s*(×|FAIL)\s/.test(line) || /AssertionError|Error: Test timed out/.test(line),
        );
      resolve({ code, seconds: (performance.now() - startedAt) / 1000, failed, output });
    });
  });
}

console.log(
  `flake check: ${files.join(" ")} in ${values.package}, ${runs} runs, ${burnerCount} busy-loop burner(s) on ${availableParallelism()} cores`,
);
const results = [];
for (let run = 1; run <= runs; run++) {
  const result = await runOnce();
  results.push(result);
  const verdict = result.code === 0 ? "pass" : `FAIL (exit ${result.code})`;
  console.log(`run ${run}/${runs}: ${verdict} in ${result.seconds.toFixed(1)} s`);
  if (result.code !== 0) {
    for (const line of result.failed.slice(0, 20)) console.log(`    ${line.trim()}`);
    const saved = join(tmpdir(), `flake-check-run-${run}-${process.pid}.log`);
    writeFileSync(saved, result.output);
    console.log(`    whole output: ${saved}`);
  }
}
stopBurners();
const failures = results.filter((result) => result.code !== 0).length;
const seconds = results.map((result) => result.seconds);
console.log(
  `flake check: ${failures} failure(s) in ${runs} runs; ${Math.min(...seconds).toFixed(1)} to ${Math.max(...seconds).toFixed(1)} s a run`,
);
process.exit(failures === 0 ? 0 : 1);
