import { afterAll, afterEach, expect, it } from "vitest";
import { main } from "../examples/echo-upstream-provider.js";
import { type LocalServer, startLocalServer } from "../test-support/local-server.js";
import { closeDispatchers } from "./http-client.js";

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(closeDispatchers);

it("runs the README's example provider against an OpenAI-shaped local server", async () => {
  server = await startLocalServer((_request, response, body) => {
    const { model } = JSON.parse(body) as { model: string };
    response.writeHead(200, { "content-type": "text/event-stream" });
    response.write(`data: {"choices":[{"delta":{"content":"Hello from ${model}"}}]}\n\n`);
    response.end(
      'data: {"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\ndata: [DONE]\n\n',
    );
  });
  const answer = await main(server.url);
  expect(answer.text).toBe("Hello from small");
  expect(answer.finishReason).toBe("stop");
  expect(answer.usage?.totalTokens).toBe(7);
  expect(server.requests).toHaveLength(1);
  expect(server.requests[0]).toMatchObject({ method: "POST", url: "/v1/chat/completions" });
  expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({
    model: "small",
    messages: [{ role: "user", content: "Hello!" }],
    stream: true,
  });
});
