import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServeProcess, startServeProcess } from "../test-support/serve-process.js";
import type { ErrorBody } from "./__fixtures__/http-bodies.js";

/*
 * A body over the limit, sent whole with its content-length (issue 14, finding 6).
 * The server runs as its own process: in one event loop with the client, the client
 * has always finished its upload before the server can answer, and the race that
 * gave `EPIPE` never shows.
 */

let served: ServeProcess;
beforeAll(async () => {
  served = await startServeProcess(["--demo", "--port", "0", "--log-level", "silent"]);
});
afterAll(async () => {
  served.child.kill("SIGTERM");
  await served.exited;
});

const limit = 4 * 1024 * 1024;
const oversizedContent = "x".repeat(limit + 1);

describe("a body over the limit", () => {
  it("gets a 413 and a closed connection in node's fetch every time, never a broken pipe", async () => {
    const body = JSON.stringify({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: oversizedContent }],
    });
    for (let round = 0; round < 6; round++) {
      const response = await fetch(`${served.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(413);
      expect(response.headers.get("connection")).toBe("close");
      expect(((await response.json()) as ErrorBody).error.code).toBe("request_too_large");
    }
  });

  it("gets the openai client a 413 every time, an error it does not retry", async () => {
    let attempts = 0;
    const openai = new OpenAI({
      baseURL: `${served.url}/v1`,
      apiKey: "sk-test",
      fetch: (input, init) => {
        attempts++;
        return fetch(input, init);
      },
    });
    for (let round = 0; round < 6; round++) {
      const error = await openai.chat.completions
        .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: oversizedContent }] })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    }
    expect(attempts).toBe(6);
  });
});
