import { readFileSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Acme, providerPlugin } from "../examples/acme-provider.js";
import { type LocalServer, startLocalServer } from "../test-support/local-server.js";
import { createCompletion } from "./create-completion.js";
import { closeDispatchers } from "./http-client.js";
import { InvalidOptionsError } from "./provider-options.js";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(closeDispatchers);

const hello = [{ role: "user" as const, content: "Hello!" }];

/** The first ```ts block of a markdown file that holds `marker`, as it would be in a file. */
function codeBlock(path: string, marker: string): string {
  const text = readFileSync(new URL(path, import.meta.url), "utf8");
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
  const block = blocks.find((candidate) => candidate.includes(marker));
  if (block === undefined) throw new Error(`no ts block with ${marker} in ${path}`);
  return block;
}

function exampleSource(path: string): string {
  return readFileSync(new URL(path, import.meta.url), "utf8").replace(
    '"../src/index.js"',
    '"@g4f-ts/provider-core"',
  );
}

describe("docs/writing-a-provider.md's HTTP provider", () => {
  it("is the example file the tests run, in at most 60 lines", () => {
    const source = exampleSource("../examples/acme-provider.ts");
    expect(codeBlock("../../../docs/writing-a-provider.md", "class Acme")).toBe(source);
    expect(source.trimEnd().split("\n").length).toBeLessThanOrEqual(60);
  });

  it("answers through its upstream, with the key, the sampling options and the alias sent", async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(
        'data: {"choices":[{"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
      );
    });
    const acme = providerPlugin.createProvider({ baseUrl: server.url, apiKey: "sk-acme" });
    const answer = await createCompletion(acme, "large", hello, { topP: 0.5, stream: true });
    expect(answer.text).toBe("Hi");
    expect(server.requests[0]?.url).toBe("/v1/chat/completions");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer sk-acme");
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({
      model: "acme-large",
      messages: hello,
      stream: true,
      top_p: 0.5,
    });
  });

  it("refuses a misspelled option before anything is sent", async () => {
    const acme = new Acme({ baseUrl: "http://127.0.0.1:9" });
    await expect(createCompletion(acme, "", hello, { temprature: 1 } as never)).rejects.toSatisfy(
      (error) => InvalidOptionsError.isInstance(error) && error.message.includes("temperature"),
    );
  });
});

describe("the README's provider", () => {
  it("is the example file the tests run", () => {
    const source = exampleSource("../examples/echo-upstream-provider.ts");
    const block = codeBlock("../README.md", "class Example");
    expect(source).toContain(
      block.slice(block.indexOf("export class Example")).split("\nconst answer")[0],
    );
  });
});
