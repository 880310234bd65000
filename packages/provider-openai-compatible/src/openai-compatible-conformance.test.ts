import { closeDispatchers } from "@g4f-ts/provider-core";
import { startOpenAICompatibleFake } from "@g4f-ts/testkit";
import { describeProviderConformance } from "@g4f-ts/testkit/vitest";
import { afterAll } from "vitest";
import { OpenAICompatible } from "./openai-compatible-provider.js";

const apiKey = "sk-conformance-0123456789abcdef";

afterAll(async () => {
  await closeDispatchers();
});

describeProviderConformance({
  name: "OpenAICompatible",
  startUpstream: () =>
    startOpenAICompatibleFake({ apiKey, models: ["fake-chat", "fake-chat-large", "fake-image"] }),
  // The fake serves its API under /v1, and the base URL carries the version.
  createProvider: (baseUrl) =>
    new OpenAICompatible({
      id: "conformance",
      baseUrl: `${baseUrl}/v1`,
      apiKey,
      models: ["fake-chat", "fake-chat-large"],
      imageModels: ["fake-image"],
      modelAliases: { large: "fake-chat-large" },
      retry: { maxAttempts: 1 },
    }),
  imageModel: "fake-image",
  secret: apiKey,
});
