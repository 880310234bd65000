#!/usr/bin/env node
// The release path, end to end, on loopback: version the packages with changesets (in
// a staged copy, so the repository is left as it is), start a Verdaccio registry on a
// free 127.0.0.1 port with its storage in a temp folder, publish every package to it
// with pnpm (and the example provider with npm, as a third party would), then install
// them one at a time into empty projects, as a new user would, and use them:
//   1. @g4f-ts/provider-amigochat alone: ESM import, require(), tsc --noEmit with
//      moduleResolution node16 and bundler, a call against a local upstream;
//   2. @g4f-ts/registry + @g4f-ts/provider-openai-compatible: `npx g4f-ts serve --config`
//      discovers exactly that provider and answers through it;
//   3. @g4f-ts/registry alone: `g4f-ts serve` starts and says which provider packages
//      to install, with the commands; `--port 99999` is a usage error;
//   4. --demo after the registry and AmigoChat: names the missing testkit with its
//      install command; after it, answers; `g4f-ts models | head -1` exits 0 (npm, then
//      the same with pnpm);
//   5. an external provider package (examples/provider-echo) beside the registry:
//      discovered, routed to.
// Verdaccio has no uplink for @g4f-ts/* or the example, so those come only from what
// this run published; other packages (zod, undici, typescript, …) are proxied to the
// npm registry. Upstreams are the testkit's fakes on 127.0.0.1.
// Run after `pnpm build`: `pnpm test:release` (`--keep` keeps the temp folder).
import { execFileSync, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { externalExamplePackages, publishablePackages } from "./publishable-packages.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const rootManifest = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
const pnpmVersion = rootManifest.packageManager.split("@")[1];
const keep = process.argv.includes("--keep");
const startedAt = performance.now();

function step(title) {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`== [${seconds}s] ${title}`);
}

function check(condition, message, detail = "") {
  if (!condition) throw new Error(`${message}${detail === "" ? "" : `\n${detail}`}`);
}

/** Run a command to its end; its output. Throws with the output on a non-zero exit unless `allowFailure`. */
function run(command, args, { cwd, env, allowFailure = false, timeoutMs = 180_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data) => {
      stdout += data;
    });
    child.stderr.on("data", (data) => {
      stderr += data;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if (code !== 0 && !allowFailure)
        reject(
          new Error(
            `${command} ${args.join(" ")} (in ${cwd}) exited with ${code ?? signal}\n${stdout}\n${stderr}`,
          ),
        );
      else resolvePromise(result);
    });
  });
}

/** The environment every package manager runs with: only our registry and settings, none inherited. */
function clientEnvironment(npmrc, registryUrl) {
  const environment = {};
  for (const [name, value] of Object.entries(process.env)) {
    const lower = name.toLowerCase();
    if (lower.startsWith("npm_") || lower.startsWith("pnpm_")) continue;
    environment[name] = value;
  }
  return {
    ...environment,
    npm_config_userconfig: npmrc,
    npm_config_registry: registryUrl,
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_yes: "true",
    CI: "true",
  };
}

/**
 * Copy what the publishable packages ship, with the workspace manifest and the
 * changesets, into `staging`, and version them there with changesets.
 */
async function stageAndVersion(staging) {
  await writeFile(join(staging, "package.json"), JSON.stringify({ name: "g4f-ts", private: true }));
  await writeFile(join(staging, "pnpm-workspace.yaml"), "packages:\n  - packages/*\n  - apps/*\n");
  await cp(join(root, ".changeset"), join(staging, ".changeset"), { recursive: true });
  for (const relative of publishablePackages) {
    const from = join(root, relative);
    const to = join(staging, relative);
    await mkdir(to, { recursive: true });
    // What the manifest's `files` ships (its folders and files; the `!` exclusions are pack's).
    const { files = [] } = JSON.parse(await readFile(join(from, "package.json"), "utf8"));
    const shipped = files.filter((entry) => !entry.startsWith("!"));
    for (const entry of new Set(["package.json", "README.md", "LICENSE", ...shipped]))
      await cp(join(from, entry), join(to, entry), { recursive: true });
  }
  await run(process.execPath, [join(root, "node_modules/@changesets/cli/bin.js"), "version"], {
    cwd: staging,
    env: { ...process.env, CI: "true" },
  });
  const manifests = new Map();
  for (const relative of publishablePackages) {
    const manifest = JSON.parse(await readFile(join(staging, relative, "package.json"), "utf8"));
    manifests.set(manifest.name, { relative, manifest });
  }
  // pnpm turns `workspace:` ranges into versions by reading the linked packages, as an
  // installed workspace has them.
  for (const { relative, manifest } of manifests.values()) {
    const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    for (const name of names) {
      const target = manifests.get(name);
      if (target === undefined) continue;
      const link = join(staging, relative, "node_modules", name);
      await mkdir(dirname(link), { recursive: true });
      await symlink(join(staging, target.relative), link, "dir");
    }
  }
  return manifests;
}

/** Start Verdaccio in this process on a free loopback port. */
async function startVerdaccio(work, uplink) {
  const configPath = join(work, "verdaccio.yaml");
  const storage = join(work, "storage");
  await mkdir(storage);
  const access = "    access: $all\n    publish: $authenticated\n";
  const local = [
    "'@g4f-ts/*'",
    ...externalExamplePackages.map((_, index) => `'${exampleNames[index]}'`),
  ];
  await writeFile(
    configPath,
    [
      `storage: ${JSON.stringify(storage)}`,
      "auth:",
      "  htpasswd:",
      `    file: ${JSON.stringify(join(work, "htpasswd"))}`,
      "    max_users: 10",
      "uplinks:",
      "  npmjs:",
      `    url: ${JSON.stringify(uplink)}`,
      "    timeout: 60s",
      "packages:",
      // No proxy: our names resolve only to what this run published.
      ...local.map((name) => `  ${name}:\n${access}`),
      `  '**':\n${access}    proxy: npmjs\n`,
      "logs: { type: stdout, format: pretty, level: error }",
      "web:",
      "  enable: false",
      "max_body_size: 100mb",
      "",
    ].join("\n"),
  );
  const { runServer } = await import(
    pathToFileURL(join(root, "node_modules/verdaccio/build/index.js")).href
  );
  const server = await runServer(configPath);
  await new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolvePromise);
  });
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}/`;
  const response = await fetch(`${url}-/user/org.couchdb.user:release-e2e`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "release-e2e", password: "release-e2e-password", type: "user" }),
  });
  const body = await response.json();
  check(
    response.status === 201 && typeof body.token === "string",
    "Verdaccio refused the user",
    JSON.stringify(body),
  );
  return {
    url,
    port,
    token: body.token,
    close: () =>
      new Promise((resolvePromise) => {
        server.closeAllConnections?.();
        server.close(() => resolvePromise());
      }),
  };
}

const exampleManifests = await Promise.all(
  externalExamplePackages.map(async (relative) =>
    JSON.parse(await readFile(join(root, relative, "package.json"), "utf8")),
  ),
);
const exampleNames = exampleManifests.map((manifest) => manifest.name);

/** An empty project that installs from the loopback registry. */
async function emptyProject(work, name, npmrcText) {
  const directory = join(work, "projects", name);
  await mkdir(directory, { recursive: true });
  await writeFile(
    join(directory, "package.json"),
    `${JSON.stringify({ name: `release-e2e-${name}`, version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
  );
  await writeFile(join(directory, ".npmrc"), npmrcText);
  return directory;
}

async function installedScope(directory) {
  return (await readdir(join(directory, "node_modules", "@g4f-ts"))).sort();
}

async function exists(path) {
  try {
    await readdir(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start `g4f-ts serve` (through `command`, e.g. npx) in `directory` and resolve once it
 * listens. Its own process group, so that stopping it stops npx and node together.
 */
function serve(command, args, { cwd, env }) {
  const child = spawn(command, args, {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise((resolvePromise) =>
    child.once("close", (code) => resolvePromise(code)),
  );
  const stop = async () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    return exited;
  };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`serve did not start within 60 s:\n${stderr}`));
    }, 60_000);
    child.stderr.on("data", (data) => {
      stderr += data;
      const match = /serving the OpenAI API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match !== null) {
        clearTimeout(timer);
        // The lines after the first one (warnings, hints) come in the same burst or just after.
        setTimeout(() => resolvePromise({ url: match[1], stderr: () => stderr, stop }), 300);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${stderr}`));
    });
  });
}

async function chat(url, model, content) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content }] }),
  });
  const body = await response.json();
  check(
    response.status === 200,
    `chat with ${model} answered ${response.status}`,
    JSON.stringify(body),
  );
  return body.choices[0].message.content;
}

async function providerIds(url) {
  const body = await (await fetch(`${url}/v1/providers`)).json();
  return body.data.map((provider) => provider.id);
}

async function main() {
  step("build output present");
  for (const relative of publishablePackages)
    check(
      await exists(join(root, relative, "dist")),
      `${relative}/dist is missing: run pnpm build first`,
    );

  // The registry npm uses here (a mirror in some CI) serves what is not ours; the
  // pnpm-only npm_config_* of `pnpm run` are left out, as npm warns about them.
  const uplink = execFileSync("npm", ["config", "get", "registry"], {
    encoding: "utf8",
    env: Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !name.startsWith("npm_config_") || name === "npm_config_registry",
      ),
    ),
  }).trim();
  const work = await mkdtemp(join(tmpdir(), "g4f-release-e2e-"));
  const closers = [];
  try {
    step("stage the packages and version them with changesets");
    const staging = join(work, "staging");
    await mkdir(staging);
    const manifests = await stageAndVersion(staging);
    const versions = Object.fromEntries(
      [...manifests].map(([name, { manifest }]) => [name, manifest.version]),
    );
    console.log(`   versions: ${JSON.stringify(versions)}`);

    step(`start Verdaccio on 127.0.0.1 (uplink for other packages: ${uplink})`);
    const verdaccio = await startVerdaccio(work, uplink);
    closers.push(() => verdaccio.close());
    const npmrcText = `registry=${verdaccio.url}\n//127.0.0.1:${verdaccio.port}/:_authToken=${verdaccio.token}\n`;
    const npmrc = join(work, ".npmrc");
    await writeFile(npmrc, npmrcText);
    await writeFile(join(staging, ".npmrc"), npmrcText);
    const env = clientEnvironment(npmrc, verdaccio.url);
    const pnpm = (args, options) => run("npx", ["--yes", `pnpm@${pnpmVersion}`, ...args], options);

    step("pack every package with pnpm (workspace: ranges become versions), publish each with npm");
    const tarballs = join(work, "tarballs");
    await pnpm(["-r", "pack", "--pack-destination", tarballs], { cwd: staging, env });
    const packed = (await readdir(tarballs)).filter((file) => file.endsWith(".tgz"));
    check(packed.length === manifests.size, `packed ${packed.join(", ")}`);
    await Promise.all(
      packed.map((file) =>
        run("npm", ["publish", join(tarballs, file), "--access", "public"], { cwd: staging, env }),
      ),
    );
    for (const [name, version] of Object.entries(versions)) {
      const packument = await (await fetch(`${verdaccio.url}${name.replace("/", "%2f")}`)).json();
      const published = packument.versions?.[version];
      check(
        published !== undefined,
        `${name}@${version} is not on the registry`,
        JSON.stringify(packument),
      );
      const ranges = JSON.stringify(published.dependencies ?? {});
      check(
        !ranges.includes("workspace:"),
        `${name} was published with a workspace: range`,
        ranges,
      );
    }
    step("publish the external example provider with npm");
    for (const relative of externalExamplePackages) {
      const copy = join(work, "external", relative);
      await cp(join(root, relative), copy, { recursive: true });
      await writeFile(join(copy, ".npmrc"), npmrcText);
      await run("npm", ["publish"], { cwd: copy, env });
    }

    const testkit = await import(pathToFileURL(join(root, "packages/testkit/dist/index.js")).href);
    const amigoUpstream = await testkit.startAmigoChatFake();
    closers.push(() => amigoUpstream.close());
    const openaiUpstream = await testkit.startOpenAICompatibleFake({ models: ["e2e-model"] });
    closers.push(() => openaiUpstream.close());

    // The scenarios wait mostly on installs, so they run side by side; each names itself
    // in what it reports.
    const scenarios = [];
    scenarios.push([
      "1. @g4f-ts/provider-amigochat alone: import, require, tsc (node16, bundler), a call",
      async () => {
        const project = await emptyProject(work, "amigochat-alone", npmrcText);
        await run("npm", ["install", "@g4f-ts/provider-amigochat"], { cwd: project, env });
        const scope = await installedScope(project);
        check(
          JSON.stringify(scope) === JSON.stringify(["provider-amigochat", "provider-core"]),
          `amigochat alone installed ${scope.join(", ")}`,
        );
        check(!(await exists(join(project, "node_modules", "vitest"))), "vitest was installed");
        const call = (module) =>
          `const amigo = new AmigoChat({ baseUrl: process.env.UPSTREAM });
amigo.createChat({ model: "gpt-4o-mini", chatId: amigo.generateChatId(), messages: [{ role: "user", content: "Say hello" }] })
  .then((text) => console.log(JSON.stringify({ module: ${JSON.stringify(module)}, text, plugin: providerPlugin.name })));\n`;
        await writeFile(
          join(project, "esm.mjs"),
          `import { AmigoChat, providerPlugin } from "@g4f-ts/provider-amigochat";\n${call("esm")}`,
        );
        await writeFile(
          join(project, "cjs.cjs"),
          `const { AmigoChat, providerPlugin } = require("@g4f-ts/provider-amigochat");\n${call("cjs")}`,
        );
        for (const [file, module] of [
          ["esm.mjs", "esm"],
          ["cjs.cjs", "cjs"],
        ]) {
          const { stdout } = await run(process.execPath, [file], {
            cwd: project,
            env: { ...env, UPSTREAM: amigoUpstream.url },
          });
          const result = JSON.parse(stdout.trim().split("\n").at(-1));
          check(
            result.module === module &&
              result.text === "Hello from gpt-4o-mini!" &&
              result.plugin === "amigochat",
            `${file} did not answer through the local upstream`,
            stdout,
          );
        }
        await writeFile(
          join(project, "index.ts"),
          `import { AmigoChat, type AmigoChatOptions, providerPlugin } from "@g4f-ts/provider-amigochat";

const options: AmigoChatOptions = { baseUrl: "http://127.0.0.1:1" };
const amigo = new AmigoChat(options);
export const models: readonly string[] = amigo.getModels();
export const name: string = providerPlugin.name;
export const answer: Promise<string> = amigo.createChat({
  model: "gpt-4o-mini",
  chatId: amigo.generateChatId(),
  messages: [{ role: "user", content: "Hi" }],
});
`,
        );
        for (const [resolution, module] of [
          ["node16", "node16"],
          ["bundler", "esnext"],
        ]) {
          const tsconfig = `tsconfig.${resolution}.json`;
          await writeFile(
            join(project, tsconfig),
            JSON.stringify({
              compilerOptions: {
                module,
                moduleResolution: resolution,
                target: "es2022",
                strict: true,
                noEmit: true,
                skipLibCheck: false,
                // The repository's own TypeScript and Node types check the project: a
                // consumer's, without downloading them on every run.
                typeRoots: [join(root, "node_modules/@types")],
                types: ["node"],
              },
              files: ["index.ts"],
            }),
          );
          await run(
            process.execPath,
            [join(root, "node_modules/typescript/bin/tsc"), "-p", tsconfig],
            {
              cwd: project,
              env,
            },
          );
        }
      },
    ]);

    scenarios.push([
      "2. @g4f-ts/registry + @g4f-ts/provider-openai-compatible: npx g4f-ts serve --config",
      async () => {
        const project = await emptyProject(work, "registry-openai-compatible", npmrcText);
        await run("npm", ["install", "@g4f-ts/registry", "@g4f-ts/provider-openai-compatible"], {
          cwd: project,
          env,
        });
        const scope = await installedScope(project);
        check(
          JSON.stringify(scope) ===
            JSON.stringify(["provider-core", "provider-openai-compatible", "registry"]),
          `registry + openai-compatible installed ${scope.join(", ")}`,
        );
        await writeFile(
          join(project, "g4f.config.json"),
          JSON.stringify({
            providers: [
              {
                id: "local",
                use: "@g4f-ts/provider-openai-compatible",
                options: { baseUrl: `${openaiUpstream.url}/v1`, models: ["e2e-model"] },
              },
            ],
          }),
        );
        const server = await serve(
          "npx",
          ["--no", "g4f-ts", "serve", "--config", "g4f.config.json", "--port", "0"],
          { cwd: project, env },
        );
        try {
          const ids = await providerIds(server.url);
          check(
            JSON.stringify(ids) === JSON.stringify(["local"]),
            `providers: ${ids.join(", ")}`,
            server.stderr(),
          );
          const text = await chat(server.url, "e2e-model", "Say hello");
          check(text === "Hello from e2e-model!", `answer: ${text}`);
          // The console's page, and its libraries from the installed dependencies.
          for (const path of ["/", "/console/console.js", "/console/vendor/uplot.js"]) {
            const response = await fetch(`${server.url}${path}`);
            await response.arrayBuffer();
            check(response.status === 200, `the console's ${path} answered ${response.status}`);
          }
        } finally {
          await server.stop();
        }
      },
    ]);

    scenarios.push([
      "3. @g4f-ts/registry alone: serve says which provider packages to install",
      async () => {
        const project = await emptyProject(work, "registry-alone", npmrcText);
        await run("npm", ["install", "@g4f-ts/registry"], { cwd: project, env });
        const scope = await installedScope(project);
        check(
          JSON.stringify(scope) === JSON.stringify(["provider-core", "registry"]),
          `registry alone installed ${scope.join(", ")}`,
        );
        check(!(await exists(join(project, "node_modules", "vitest"))), "vitest was installed");
        const server = await serve("npx", ["--no", "g4f-ts", "serve", "--port", "0"], {
          cwd: project,
          env,
        });
        await server.stop();
        const stderr = server.stderr();
        for (const expected of [
          "no provider package is installed beside the registry",
          "npm install @g4f-ts/provider-amigochat",
          "npm install @g4f-ts/provider-openai-compatible",
          "AMIGOCHAT_BASE_URL",
          "--config",
          "--demo",
        ])
          check(stderr.includes(expected), `serve alone does not say "${expected}"`, stderr);
        const badPort = await run("npx", ["--no", "g4f-ts", "serve", "--port", "99999"], {
          cwd: project,
          env,
          allowFailure: true,
        });
        check(
          badPort.code === 2 && badPort.stderr.includes("--port must be between 0 and 65535"),
          `--port 99999 exited ${badPort.code}`,
          badPort.stderr,
        );
      },
    ]);

    const demoScenario = async (manager) => {
      const project = await emptyProject(work, `demo-${manager}`, npmrcText);
      const add =
        manager === "npm"
          ? (packages) => run("npm", ["install", ...packages], { cwd: project, env })
          : (packages) => pnpm(["add", ...packages], { cwd: project, env });
      const exec =
        manager === "npm"
          ? ["npx", ["--no", "g4f-ts"]]
          : ["npx", ["--yes", `pnpm@${pnpmVersion}`, "exec", "g4f-ts"]];
      const install = manager === "npm" ? "npm install" : "pnpm add";
      await add(["@g4f-ts/registry", "@g4f-ts/provider-amigochat"]);
      const missing = await run(exec[0], [...exec[1], "serve", "--demo", "--port", "0"], {
        cwd: project,
        env,
        allowFailure: true,
      });
      check(
        missing.code === 2 &&
          missing.stderr.includes("--demo needs @g4f-ts/testkit beside the registry") &&
          missing.stderr.includes(`${install} @g4f-ts/testkit`),
        `--demo without the testkit exited ${missing.code}`,
        missing.stderr,
      );
      await add(["@g4f-ts/testkit"]);
      check(!(await exists(join(project, "node_modules", "vitest"))), "vitest was installed");
      if (manager === "npm") {
        // Every installed package loads through require() and import alike, the testkit
        // without vitest.
        const names = JSON.stringify([
          "@g4f-ts/registry",
          "@g4f-ts/provider-amigochat",
          "@g4f-ts/testkit",
          "@g4f-ts/provider-core",
        ]);
        const loaded = await run(
          process.execPath,
          [
            "-e",
            `for (const name of ${names}) if (Object.keys(require(name)).length === 0) throw new Error(name);
Promise.all(${names}.map((name) => import(name))).then((modules) => console.log(modules.length));`,
          ],
          { cwd: project, env },
        );
        check(
          loaded.stdout.trim() === "4",
          "require() or import of an installed package failed",
          loaded.stderr,
        );
      }
      const server = await serve(exec[0], [...exec[1], "serve", "--demo", "--port", "0"], {
        cwd: project,
        env,
      });
      try {
        const text = await chat(server.url, "gpt-4o-mini", "Say hello");
        check(
          text.includes("demo upstream answering as gpt-4o-mini"),
          `demo answer: ${text}`,
          server.stderr(),
        );
      } finally {
        await server.stop();
      }
      // A reader that leaves after one line: the CLI ends quietly with exit 0.
      const piped = await run(
        "bash",
        ["-o", "pipefail", "-c", "node_modules/.bin/g4f-ts models | head -1"],
        {
          cwd: project,
          env: { ...env, AMIGOCHAT_BASE_URL: amigoUpstream.url },
          allowFailure: true,
        },
      );
      check(
        piped.code === 0 && piped.stderr === "" && piped.stdout.split("\n").length === 2,
        `g4f-ts models | head -1 exited ${piped.code}`,
        `${piped.stdout}\n${piped.stderr}`,
      );
    };

    scenarios.push(["4. --demo after the registry and AmigoChat (npm)", () => demoScenario("npm")]);
    scenarios.push([
      "4. --demo after the registry and AmigoChat (pnpm)",
      () => demoScenario("pnpm"),
    ]);

    scenarios.push([
      "5. an external provider package beside the registry: discovered, routed to",
      async () => {
        const project = await emptyProject(work, "external-provider", npmrcText);
        await run("npm", ["install", "@g4f-ts/registry", ...exampleNames], { cwd: project, env });
        const scope = await installedScope(project);
        check(
          JSON.stringify(scope) === JSON.stringify(["provider-core", "registry"]),
          `registry + echo installed ${scope.join(", ")}`,
        );
        const server = await serve("npx", ["--no", "g4f-ts", "serve", "--port", "0"], {
          cwd: project,
          env,
        });
        try {
          const ids = await providerIds(server.url);
          check(
            JSON.stringify(ids) === JSON.stringify(["echo"]),
            `providers: ${ids.join(", ")}`,
            server.stderr(),
          );
          const text = await chat(server.url, "echo", "hello from the release test");
          check(text === "hello from the release test", `echo answered: ${text}`);
        } finally {
          await server.stop();
        }
      },
    ]);
    const outcomes = await Promise.allSettled(
      scenarios.map(async ([title, scenario]) => {
        const scenarioStart = performance.now();
        step(`start ${title}`);
        try {
          await scenario();
        } catch (error) {
          throw new Error(`${title}: ${error instanceof Error ? error.message : String(error)}`);
        }
        step(`passed ${title} (${((performance.now() - scenarioStart) / 1000).toFixed(1)}s)`);
      }),
    );
    const failures = outcomes.filter((outcome) => outcome.status === "rejected");
    for (const failure of failures) console.error(`FAILED ${failure.reason.message}\n`);
    check(failures.length === 0, `${failures.length} of ${scenarios.length} scenarios failed`);
    step("release path passed");
  } finally {
    for (const close of closers.reverse()) await close();
    if (keep) console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

await main();
