import { closeDispatchers } from "@g4f-ts/provider-core";
import { type AmigoChatFake, startAmigoChatFake } from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startConnectProxy } from "../test-support/connect-proxy.js";
import { main as basicChat } from "./basic-chat.js";
import { main as driver } from "./driver.js";
import { main as image } from "./image.js";
import { main as streamChat } from "./stream-chat.js";

let fake: AmigoChatFake;
let output: string;
const print = (text: string) => {
  output += text;
};

beforeEach(async () => {
  fake = await startAmigoChatFake();
  output = "";
  // The examples read their upstream from the environment, as a user's run would.
  vi.stubEnv("AMIGOCHAT_BASE_URL", fake.url);
  vi.stubEnv("AMIGOCHAT_PROXY", undefined);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.close();
});

afterAll(async () => {
  await closeDispatchers();
});

describe("the examples", () => {
  it("basic-chat prints the answer of gpt-4o-mini", async () => {
    expect(await basicChat(print)).toEqual(["Hello from gpt-4o-mini!"]);
    expect(output).toBe("Hello from gpt-4o-mini!\n");
    expect(fake.requests[0]?.json).toMatchObject({ stream: false, personaId: "amigo" });
  });

  it("image prints the URLs of the generated images", async () => {
    expect(await image(print)).toEqual([
      "Generated image: https://images.example/flux-realism/1.png, https://images.example/flux-realism/2.png",
    ]);
    expect(fake.requests[0]?.path).toBe("/v1/images/generations");
  });

  it("stream-chat prints the deltas as they come, system message sent", async () => {
    expect(await streamChat(print)).toEqual(["Hell", "o fr", "om g", "pt-4", "o-mi", "ni!"]);
    expect(output).toBe("Hello from gpt-4o-mini!\n");
    expect(fake.requests[0]?.json).toMatchObject({
      stream: true,
      messages: [
        { role: "system", content: "You are a friendly assistant." },
        { role: "user", content: "Hi! How are you?" },
      ],
    });
  });

  it("driver uses createChat, createImage and streamChat with one chat id", async () => {
    expect(await driver(print)).toEqual([
      "Hello from gpt-4o-mini!",
      "Generated image: https://images.example/flux-realism/1.png, https://images.example/flux-realism/2.png",
      "Hello from gpt-4o-mini!",
    ]);
    const chatIds = fake.requests
      .filter((request) => request.path === "/v1/chat/completions")
      .map((request) => (request.json as { chatId: string }).chatId);
    expect(chatIds).toHaveLength(2);
    expect(chatIds[0]).toBe(chatIds[1]);
  });

  it("driver also calls through the proxy named by AMIGOCHAT_PROXY", async () => {
    const proxy = await startConnectProxy();
    try {
      vi.stubEnv("AMIGOCHAT_PROXY", proxy.url);
      const printed = await driver(print);
      expect(printed).toHaveLength(4);
      expect(printed[3]).toBe("Hello from gpt-4o-mini!");
      expect(proxy.targets).toEqual([`127.0.0.1:${fake.port}`]);
      expect(fake.requests).toHaveLength(4);
    } finally {
      await closeDispatchers();
      await proxy.close();
    }
  });
});
