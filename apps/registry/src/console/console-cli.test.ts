import { afterEach, describe, expect, it } from "vitest";
import {
  type ServeProcess,
  startServeProcess,
  writeConfigFile,
} from "../../test-support/serve-process.js";

const running: ServeProcess[] = [];
afterEach(async () => {
  for (const serve of running.splice(0)) {
    serve.child.kill("SIGTERM");
    await serve.exited;
  }
});

describe("g4f-ts serve", () => {
  it("prints the console's address with its first line, and the page is there", async () => {
    const configPath = await writeConfigFile({ discovery: { installed: false } });
    const serve = await startServeProcess([
      ...["--port", "0", "--config", configPath, "--log-level", "silent"],
    ]);
    running.push(serve);
    const match = /g4f-ts: console: open (http:\/\/127\.0\.0\.1:\d+\/) in a browser\n/.exec(
      serve.stderr(),
    );
    expect(match?.[1]).toBe(`${serve.url}/`);
    const page = await fetch(match?.[1] ?? "");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>g4f-ts console</title>");
  });

  it("does not print it when the console is switched off", async () => {
    const configPath = await writeConfigFile({
      discovery: { installed: false },
      server: { console: false },
    });
    const serve = await startServeProcess([
      ...["--port", "0", "--config", configPath, "--log-level", "silent"],
    ]);
    running.push(serve);
    expect(serve.stderr()).not.toContain("console");
    expect((await fetch(`${serve.url}/`)).status).toBe(404);
  });
});
