import { closeDispatchers } from "@g4f-ts/provider-core";
import { startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { afterAll, expect, it, vi } from "vitest";
import { main } from "../examples/ollama-chat.js";

afterAll(async () => {
  await closeDispatchers();
});

it("runs the README's example against a fake Ollama", async () => {
  const fake = await startOpenAICompatibleFake({ models: ["llama3.2:latest", "qwen2.5:7b"] });
  vi.stubEnv("OPENAI_COMPATIBLE_BASE_URL", `${fake.url}/v1`);
  try {
    let output = "";
    const text = await main((piece) => {
      output += piece;
    });
    expect(text).toBe("Hello from llama3.2:latest!");
    expect(output).toBe(
      "models: llama3.2:latest, qwen2.5:7b\nHello from llama3.2:latest!\n(16 tokens)\n",
    );
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      "GET /v1/models",
      "POST /v1/chat/completions",
    ]);
  } finally {
    vi.unstubAllEnvs();
    await fake.close();
  }
});
