// Screenshots of the console for the docs: `pnpm screenshots` (from the root).
// Starts a registry over two local fake upstreams (127.0.0.1 only), sends it ten
// minutes' worth of traffic on a clock it moves forward (so the charts have a
// history), makes one upstream fail until it cools down, asks the playground once,
// then writes docs/console-desktop.png and docs/console-narrow.png (360 px wide).
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { closeDispatchers } from "@g4f-ts/provider-core";
import { startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { chromium } from "playwright-core";
import { startServer } from "../dist/index.js";

const docsDirectory = fileURLToPath(new URL("../../../docs/", import.meta.url));
const executablePath = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"]
  .filter(Boolean)
  .find((path) => existsSync(path));
if (executablePath === undefined) {
  console.error(
    "console-screenshots: no Chromium found; `apt-get install -y chromium` or set CHROMIUM_PATH",
  );
  process.exit(1);
}

const models = ["gpt-4o-mini", "llama-3.3-70b"];
const primary = await startOpenAICompatibleFake({ models, chunkDelayMs: 5 });
const backup = await startOpenAICompatibleFake({ models, chunkDelayMs: 5 });
const oneAttempt = { models, retry: { maxAttempts: 1 } };
const historyMs = 9 * 60_000;
/** The registry's clock: it starts nine minutes back and catches up as the history is sent. */
let clockOffsetMs = -historyMs;
const server = await startServer({
  port: 0,
  env: {},
  now: () => Date.now() + clockOffsetMs,
  config: {
    discovery: { installed: false },
    logLevel: "silent",
    cooldown: { failureThreshold: 2, durationMs: 45_000, minDistinctClients: 1 },
    providers: [
      {
        id: "primary",
        use: "@g4f-ts/provider-openai-compatible",
        options: { baseUrl: `${primary.url}/v1`, ...oneAttempt },
        priority: 5,
      },
      {
        id: "backup",
        use: "@g4f-ts/provider-openai-compatible",
        options: { baseUrl: `${backup.url}/v1`, ...oneAttempt },
      },
    ],
  },
});

async function ask(content) {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content }] }),
  });
  await response.arrayBuffer();
}

const browser = await chromium.launch({ executablePath, headless: true });
try {
  // A steady, uneven load; the primary fails now and then (never twice in a row).
  for (let step = 0; step * 10_000 < historyMs; step++) {
    clockOffsetMs = -historyMs + step * 10_000;
    const requests = 1 + ((step * 7) % 4);
    for (let index = 0; index < requests; index++) {
      const failing = (step + index) % 9 === 0;
      const waitMs = 15 + ((step * 37 + index * 11) % 90);
      const fault = failing
        ? { kind: "status", status: 502 }
        : { kind: "delay-headers", ms: waitMs };
      primary.setFaults([fault]);
      backup.setFaults([{ kind: "delay-headers", ms: waitMs + 40 }]);
      await ask(`question ${step}.${index}`);
    }
  }
  clockOffsetMs = 0;
  primary.setFaults(() => ({ kind: "status", status: 503 }));
  backup.setFaults(undefined);
  for (let index = 0; index < 3; index++) await ask(`while primary fails ${index}`);

  mkdirSync(docsDirectory, { recursive: true });
  const shots = [
    { file: "console-desktop.png", viewport: { width: 1280, height: 900 } },
    { file: "console-narrow.png", viewport: { width: 360, height: 780 } },
  ];
  for (const { file, viewport } of shots) {
    const page = await browser.newPage({ viewport, colorScheme: "light" });
    await page.goto(`${server.url}/?refresh=500`);
    await page.locator('[data-provider="primary"][data-status="cooling_down"]').waitFor();
    await page.getByLabel("Message").fill("Say hello in five words.");
    await page.getByLabel("Message").press("Enter");
    await page.locator("#transcript li").nth(1).waitFor();
    await page.locator('#fact-provider:text("backup")').waitFor();
    await page.screenshot({ path: `${docsDirectory}${file}`, fullPage: true });
    await page.close();
    console.log(`console-screenshots: wrote docs/${file}`);
  }
} finally {
  await browser.close();
  await server.close(0);
  await primary.close();
  await backup.close();
  await closeDispatchers();
}
