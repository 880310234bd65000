#!/usr/bin/env node
// Pack every publishable package as `pnpm publish` would, and check each tarball:
// 1. its file list: the manifest, README, LICENSE, the built `dist`, the `src` the
//    source maps point at, and nothing of the tests (no *.test.*, __fixtures__,
//    test-support, examples, configs);
// 2. every source map and declaration map resolves to a file in the tarball;
// 3. publint (strict, suggestions included) reports nothing;
// 4. @arethetypeswrong reports nothing, except the rule "cjs-resolves-to-esm": the
//    packages are ESM only by design (STYLE.md) and Node 20.19+, our engines floor,
//    `require()`s ESM, which the release test (scripts/release-e2e.mjs) proves.
// Run after `pnpm build`: `pnpm check:packages`. Exits 1 listing every finding.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkPackage, createPackageFromTarballData } from "@arethetypeswrong/core";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { externalExamplePackages, publishablePackages } from "./publishable-packages.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ignoredTypeRules = new Set(["CJSResolvesToESM"]);

/** Paths no tarball may hold: tests, their data and helpers, and the build's own configs. */
const forbidden = [
  /\.test\.[cm]?[jt]s$/,
  /(^|\/)__fixtures__\//,
  /(^|\/)test-support\//,
  /(^|\/)examples\//,
  /(^|\/)bench\//,
  /(^|\/)node_modules\//,
  /(^|\/)\.turbo\//,
  /(^|\/)tsconfig[^/]*\.json$/,
  /(^|\/)vitest\.config\./,
  /\.tgz$/,
];

/**
 * Pack every publishable package with pnpm, as `pnpm publish` would (workspace: ranges
 * become versions), and the external examples with npm, into `destination`.
 * One recursive pnpm call, as each pnpm start costs seconds. Returns folder -> tarball.
 */
export function packAll(destination) {
  const filters = publishablePackages.flatMap((relative) => ["--filter", `./${relative}`]);
  const output = execFileSync(
    "npx",
    [
      "--yes",
      "pnpm@10.34.8",
      "-r",
      ...filters,
      "pack",
      "--pack-destination",
      destination,
      "--json",
    ],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  const tarballs = new Map();
  for (const result of JSON.parse(output)) {
    const relative = publishablePackages.find(
      (folder) =>
        JSON.parse(readFileSync(join(root, folder, "package.json"), "utf8")).name === result.name,
    );
    tarballs.set(relative, result.filename);
  }
  for (const relative of externalExamplePackages) {
    const [result] = JSON.parse(
      execFileSync(
        "npm",
        ["pack", join(root, relative), "--pack-destination", destination, "--json"],
        {
          cwd: destination,
          // Without the npm_config_* that `pnpm run` sets, which npm warns about.
          env: Object.fromEntries(
            Object.entries(process.env).filter(([name]) => !name.startsWith("npm_config_")),
          ),
          encoding: "utf8",
          stdio: ["ignore", "pipe", "inherit"],
        },
      ),
    );
    tarballs.set(relative, join(destination, result.filename));
  }
  return tarballs;
}

/** The tarball's files, relative to its `package/` folder, sorted. */
export function tarballFiles(tarball) {
  return execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line !== "" && !line.endsWith("/"))
    .map((line) => line.replace(/^package\//, ""))
    .sort();
}

/** What is wrong with one tarball's file list and maps (unpacked in `unpacked`). */
export function fileListFindings(files, unpacked, isTypeScript) {
  const findings = [];
  const present = new Set(files);
  for (const required of ["package.json", "README.md", "LICENSE"])
    if (!present.has(required)) findings.push(`${required} is missing`);
  for (const file of files)
    if (forbidden.some((pattern) => pattern.test(file))) findings.push(`${file} should not ship`);
  if (!isTypeScript) return findings;
  for (const required of ["dist/index.js", "dist/index.d.ts"])
    if (!present.has(required)) findings.push(`${required} is missing`);
  for (const file of files) {
    // A built module whose source is gone (deleted, yet left in dist by an earlier build).
    const built = /^dist\/(.+)\.(js|d\.ts)$/.exec(file);
    if (built !== null && !present.has(`src/${built[1]}.ts`))
      findings.push(`${file} has no source src/${built[1]}.ts (a stale build?)`);
    if (!file.endsWith(".map")) continue;
    const map = JSON.parse(readFileSync(join(unpacked, file), "utf8"));
    for (const source of map.sources ?? []) {
      const target = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? "", source));
      if (!present.has(target)) findings.push(`${file} points at ${target}, which does not ship`);
    }
  }
  return findings;
}

/** publint on the unpacked tarball: the folder holds exactly the published files. */
async function publintFindings(unpacked) {
  const { messages, pkg } = await publint({
    pkgDir: unpacked,
    pack: false,
    level: "suggestion",
    strict: true,
  });
  return messages.map((message) => `publint ${message.type}: ${formatMessage(message, pkg)}`);
}

async function typeFindings(tarball) {
  const data = new Uint8Array(readFileSync(tarball));
  const analysis = await checkPackage(createPackageFromTarballData(data));
  if (!analysis.types) return [];
  return analysis.problems
    .filter((problem) => !ignoredTypeRules.has(problem.kind))
    .map(
      (problem) =>
        `attw ${problem.kind}${"entrypoint" in problem ? ` at ${problem.entrypoint}` : ""}${"resolutionKind" in problem ? ` (${problem.resolutionKind})` : ""}`,
    );
}

async function main() {
  const workspace = mkdtempSync(join(tmpdir(), "g4f-check-packages-"));
  let failed = false;
  try {
    const tarballs = packAll(workspace);
    for (const relative of [...publishablePackages, ...externalExamplePackages]) {
      const directory = join(root, relative);
      const tarball = tarballs.get(relative);
      if (tarball === undefined) throw new Error(`${relative} was not packed`);
      const files = tarballFiles(tarball);
      const unpacked = join(workspace, relative.replaceAll("/", "-"));
      mkdirSync(unpacked);
      execFileSync("tar", ["-xzf", tarball, "-C", unpacked, "--strip-components=1"]);
      const isTypeScript = readdirSync(directory).includes("tsconfig.build.json");
      const findings = [
        ...fileListFindings(files, unpacked, isTypeScript),
        ...(await publintFindings(unpacked)),
        ...(await typeFindings(tarball)),
      ];
      const name = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")).name;
      if (findings.length === 0) {
        console.log(`ok   ${name}: ${files.length} files`);
      } else {
        failed = true;
        console.log(`FAIL ${name}:\n${findings.map((finding) => `  - ${finding}`).join("\n")}`);
      }
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
  if (failed) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
