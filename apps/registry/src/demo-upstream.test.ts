import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DemoSetupError, startDemoUpstream } from "./demo-upstream.js";
import { registryDirectory } from "./plugin-discovery.js";

describe("the --demo upstream", () => {
  it("names every missing package and the command that installs them", async () => {
    // A folder with no node_modules above it holds neither package.
    const empty = await mkdtemp(join(tmpdir(), "g4f-demo-"));
    const failure = await startDemoUpstream([empty]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DemoSetupError);
    expect((failure as Error).message).toMatch(
      /^--demo needs @g4f-ts\/provider-amigochat and @g4f-ts\/testkit beside the registry, and they are not installed here\. Install them with: (npm install|pnpm add) @g4f-ts\/provider-amigochat @g4f-ts\/testkit$/,
    );
  });

  it("loads the testkit from where it is installed and answers as AmigoChat on loopback", async () => {
    const demo = await startDemoUpstream([registryDirectory]);
    try {
      expect(demo.variable).toBe("AMIGOCHAT_BASE_URL");
      expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${demo.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", stream: false, messages: [] }),
      });
      expect(response.status).toBe(200);
      expect(JSON.stringify(await response.json())).toContain(
        "demo upstream answering as gpt-4o-mini",
      );
    } finally {
      await demo.close();
    }
  });
});
