/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { closeDispatchers } from "@g4f-ts/provider-core";
import {
  type OpenAICompatibleFake,
  sendJson,
  sendSse,
  startOpenAICompatibleFake,
  startTestServer,
  type TestServer,
} from "@g4f-ts/testkit";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { launchChromium } from "../../test-support/chromium.js";
import type { RegistryConfigInput } from "../config.js";
import { type RunningServer, startServer } from "../server.js";

/*
 * The console in a real headless Chromium (Debian's, driven by playwright-core),
 * against a registry whose providers are OpenAI-compatible upstreams on 127.0.0.1
 * that each test controls. Every wait is on a state of the page, never on time.
 */

const model = "gpt-4o-mini";
/**
 * One browser and one context for every test (making a context costs more than a
 * page; each registry is its own origin). Launched by the first test that needs it,
 * so that without Chromium every test fails with the reason, none is skipped.
 */
let launched: Promise<{ browser: Browser; context: BrowserContext }> | undefined;
const opened: (() => Promise<unknown>)[] = [];

function browserContext(): Promise<{ browser: Browser; context: BrowserContext }> {
  launched ??= launchChromium().then(async (browser) => ({
    browser,
    context: await browser.newContext({ viewport: { width: 1280, height: 900 } }),
  }));
  return launched;
}

afterAll(async () => {
  const running = await launched?.catch(() => undefined);
  await running?.browser.close();
});

afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
  await closeDispatchers();
});

interface Upstream {
  id: string;
  url: string;
  imageModels?: string[];
}

/** A registry over `upstreams`, in that order of priority. */
async function startRegistry(
  upstreams: Upstream[],
  config: RegistryConfigInput = {},
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const server = await startServer({
    port: 0,
    env,
    config: {
      discovery: { installed: false },
      logLevel: "silent",
      ...config,
      providers: upstreams.map((upstream, index) => ({
        id: upstream.id,
        use: "@g4f-ts/provider-openai-compatible",
        priority: upstreams.length - index,
        options: {
          baseUrl: `${upstream.url}/v1`,
          models: [model, ...(upstream.imageModels ?? [])],
          ...(upstream.imageModels === undefined ? {} : { imageModels: upstream.imageModels }),
          retry: { maxAttempts: 1 },
        },
      })),
    },
  });
  opened.push(() => server.close(0));
  return server;
}

async function fake(reply: string): Promise<OpenAICompatibleFake> {
  const upstream = await startOpenAICompatibleFake({ models: [model], reply });
  opened.push(() => upstream.close());
  return upstream;
}

async function testServer(handler: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const server = await startTestServer(handler);
  opened.push(() => server.close());
  return server;
}

/** What the page did that a console should never do: errors, and requests to any other origin. */
interface PageProblems {
  errors: string[];
  foreignRequests: string[];
}

async function openConsole(
  server: RunningServer,
  path = "/",
): Promise<{ page: Page } & PageProblems> {
  const { context } = await browserContext();
  const page = await context.newPage();
  opened.push(() => page.close());
  const problems: PageProblems = { errors: [], foreignRequests: [] };
  page.on("console", (message) => {
    if (message.type() === "error") problems.errors.push(message.text());
  });
  page.on("pageerror", (error) => problems.errors.push(String(error)));
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(`${server.url}/`) && !url.startsWith("data:"))
      problems.foreignRequests.push(url);
  });
  await page.goto(`${server.url}${path}${path.includes("?") ? "&" : "?"}refresh=250`);
  return { page, ...problems };
}

async function send(page: Page, message: string): Promise<void> {
  await page.getByLabel("Message").fill(message);
  await page.getByLabel("Message").press("Enter");
}

/** Resolves once the element's text is exactly `text`. */
async function textIs(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([target, expected]) => document.querySelector(target as string)?.textContent === expected,
    [selector, text],
  );
}

function answerFrame(content: string): object {
  return { id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] };
}

describe("the console", () => {
  it("loads with no console errors or foreign requests, listing both providers of the config", async () => {
    const first = await fake("first");
    const second = await fake("second");
    const server = await startRegistry([
      { id: "alpha", url: first.url },
      { id: "beta", url: second.url },
    ]);
    const { page, errors, foreignRequests } = await openConsole(server, "/console");
    await page.locator('[data-provider="alpha"][data-status="ok"]').waitFor();
    await page.locator('[data-provider="beta"][data-status="ok"]').waitFor();
    expect(await page.locator("[data-provider]").count()).toBe(2);
    expect(await page.locator('[data-provider="alpha"] .badge').textContent()).toBe("working");
    await page.locator('[data-provider="alpha"] summary').click();
    expect(await page.locator('[data-provider="alpha"] .models li').allTextContents()).toEqual([
      `${model} (chat)`,
    ]);
    // Two charts a provider, drawn by uPlot.
    expect(await page.locator('[data-provider="beta"] .uplot').count()).toBe(2);
    expect(await page.locator("#key-section").isHidden()).toBe(true);
    expect(errors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it("shows a streamed answer as it arrives, and names the provider that answered", async () => {
    let releaseRest: () => void = () => {};
    const restReleased = new Promise<void>((resolve) => {
      releaseRest = resolve;
    });
    const streaming = await testServer(async (_request, response) => {
      await sendSse(response, [answerFrame("Hello, ")], { done: false, end: false });
      await restReleased;
      await sendSse(response, [answerFrame("world!")]);
    });
    const other = await fake("from the other one");
    const server = await startRegistry([
      { id: "alpha", url: streaming.url },
      { id: "beta", url: other.url },
    ]);
    const { page, errors } = await openConsole(server);
    await page.locator('[data-provider="alpha"]').waitFor();
    await send(page, "Greet me");

    await textIs(page, "#answer", "Hello, ");
    expect(await page.locator("#answer").getAttribute("aria-live")).toBe("polite");
    expect(await page.locator("#answer").getAttribute("aria-busy")).toBe("true");
    expect(await page.locator("#fact-provider").textContent()).toBe("alpha");
    expect(await page.locator("#fact-first-chunk").textContent()).toMatch(/^\d+ ms$/);
    expect(await page.locator("#send").isDisabled()).toBe(true);

    releaseRest();
    await textIs(page, "#answer", "Hello, world!");
    await page.locator('#transcript li[data-role="assistant"]').waitFor();
    expect(await page.locator("#transcript li").allTextContents()).toEqual([
      "You: Greet me",
      "Assistant: Hello, world!",
    ]);
    expect(await page.locator("#fact-provider").textContent()).toBe("alpha");
    expect(await page.locator("#attempts li").allTextContents()).toEqual(["None"]);
    expect(await page.locator("#fact-tokens").textContent()).toMatch(/^\d+ in, \d+ out$/);
    expect(await page.locator("#send").isEnabled()).toBe(true);
    // The message sent carried the conversation in OpenAI's shape.
    expect(streaming.requests[0]?.json).toMatchObject({
      model,
      stream: true,
      messages: [{ role: "user", content: "Greet me" }],
    });
    expect(errors).toEqual([]);
  });

  it("shows a failing provider cooling down, and the next answers coming from the other one", async () => {
    const failing = await fake("never seen");
    const healthy = await fake("Backup here");
    const server = await startRegistry(
      [
        { id: "alpha", url: failing.url },
        { id: "beta", url: healthy.url },
      ],
      { cooldown: { failureThreshold: 1, durationMs: 60_000, minDistinctClients: 1 } },
    );
    const { page } = await openConsole(server);
    await page.locator('[data-provider="alpha"][data-status="ok"]').waitFor();
    failing.setFaults(() => ({ kind: "status", status: 503 }));

    await send(page, "First question");
    await textIs(page, "#answer", "Backup here");
    expect(await page.locator("#fact-provider").textContent()).toBe("beta");
    const firstAttempts = await page.locator("#attempts li").allTextContents();
    expect(firstAttempts).toHaveLength(1);
    expect(firstAttempts[0]).toMatch(/^alpha \(gpt-4o-mini\): status 503, /);

    await page.locator('[data-provider="alpha"][data-status="cooling_down"]').waitFor();
    expect(await page.locator('[data-provider="alpha"] .badge').textContent()).toMatch(
      /^cooling down, \d+ s left$/,
    );
    expect(await page.locator("#health-summary").textContent()).toContain("1 cooling down");

    await send(page, "Second question");
    await page.locator("#transcript li").nth(3).waitFor();
    expect(await page.locator("#fact-provider").textContent()).toBe("beta");
    const secondAttempts = await page.locator("#attempts li").allTextContents();
    expect(secondAttempts).toHaveLength(1);
    expect(secondAttempts[0]).toMatch(/^alpha \(gpt-4o-mini\): cooldown, skipped: cooling down/);
    // The cooldown spared the failing upstream the second request.
    expect(failing.requests.filter((request) => request.method === "POST")).toHaveLength(1);
    // Its failures by reason, over the window.
    await page.waitForFunction(() =>
      document
        .querySelector('[data-provider="alpha"] .facts')
        ?.textContent?.includes("cooldown ×1"),
    );
    expect(await page.locator('[data-provider="alpha"] .facts').textContent()).toContain(
      "status ×1",
    );
  });

  it("refuses to show anything until a valid API key is given, and keeps it for the tab only", async () => {
    const upstream = await fake("Hi");
    const server = await startRegistry(
      [{ id: "alpha", url: upstream.url }],
      { server: { apiKeys: [{ env: "G4F_CONSOLE_TEST_KEY" }] } },
      { G4F_CONSOLE_TEST_KEY: "sk-console-test" },
    );
    const { page } = await openConsole(server);
    await page.locator("#key-section").waitFor();
    expect(await page.locator("#data").isHidden()).toBe(true);
    expect(await page.locator("[data-provider]").count()).toBe(0);
    expect(
      await page.locator("#key-input").evaluate((input) => input === document.activeElement),
    ).toBe(true);

    await page.getByLabel("API key", { exact: true }).fill("sk-wrong");
    await page.getByRole("button", { name: "Use this key" }).click();
    await page.waitForFunction(() => document.getElementById("key-error")?.textContent !== "");
    expect(await page.locator("#key-error").textContent()).toMatch(/key/i);
    expect(await page.locator("#data").isHidden()).toBe(true);
    expect(await page.locator("[data-provider]").count()).toBe(0);

    await page.getByLabel("API key", { exact: true }).fill("sk-console-test");
    await page.getByLabel("API key", { exact: true }).press("Enter");
    await page.locator('[data-provider="alpha"]').waitFor();
    expect(await page.locator("#key-section").isHidden()).toBe(true);
    expect(
      await page.evaluate(() => ({
        session: sessionStorage.getItem("g4f-ts.console.api-key"),
        local: localStorage.length,
      })),
    ).toEqual({ session: "sk-console-test", local: 0 });

    // Forgetting the key hides the data again.
    await page.getByRole("button", { name: "Forget key" }).click();
    await page.locator("#key-section").waitFor();
    expect(await page.locator("#data").isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("shows the images of an image model, at 360 px wide", async () => {
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
      "base64",
    );
    const images: TestServer = await testServer((request, response) => {
      if (request.path === "/v1/images/generations")
        return sendJson(response, 200, {
          created: 1,
          data: [{ url: `${images.url}/one.png` }, { url: `${images.url}/two.png` }],
        });
      response.writeHead(200, { "content-type": "image/png", "content-length": png.length });
      response.end(png);
      return undefined;
    });
    const server = await startRegistry([{ id: "painter", url: images.url, imageModels: ["flux"] }]);
    const { page, errors } = await openConsole(server);
    await page.setViewportSize({ width: 360, height: 780 });
    await page.locator('[data-provider="painter"]').waitFor();
    await page.getByLabel("Model").selectOption("flux");
    await send(page, "A red square");
    await page.locator("#images img").nth(1).waitFor();
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>("#images img")].every(
        (image) => image.complete && image.naturalWidth === 1,
      ),
    );
    expect(await page.locator("#fact-provider").textContent()).toBe("painter");
    expect(await page.locator("#answer").textContent()).toBe("2 images");
    // Nothing sticks out sideways at 360 px.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      360,
    );
    expect(errors).toEqual([]);
  });
});
