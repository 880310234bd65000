import { describe, expect, it } from "vitest";
import { createCompletion } from "./create-completion.js";
import type { Messages } from "./messages.js";
import { contentText, lastMessageText } from "./messages.js";
import { ModelCatalog } from "./model-resolution.js";
import type { AsyncGeneratorProvider, ProviderOptions } from "./provider.js";
import { isProvider, providerContractViolations } from "./provider.js";
import {
  type AsyncResult,
  FinishReason,
  ImageResponse,
  isContentChunk,
  Usage,
} from "./response-chunks.js";

class EchoProvider extends ModelCatalog implements AsyncGeneratorProvider {
  readonly id = "echo";
  readonly label = "Echo";
  readonly url = "http://127.0.0.1";
  readonly working = true;
  readonly supportsStream = true;
  readonly supportsSystemMessage = true;
  readonly supportsMessageHistory = true;
  readonly needsAuth = false;
  lastOptions: ProviderOptions | undefined;

  constructor() {
    super({
      label: "Echo",
      defaultModel: "echo-1",
      chatModels: ["echo-1"],
      imageModels: ["draw-1"],
    });
  }

  async *createAsyncGenerator(
    model: string,
    messages: Messages,
    options?: ProviderOptions,
  ): AsyncResult {
    this.lastOptions = options;
    if (this.isImageModel(this.getModel(model))) {
      yield new ImageResponse(
        ["http://127.0.0.1/a.png", "http://127.0.0.1/b.png"],
        lastMessageText(messages),
      );
      return;
    }
    yield "you said: ";
    yield lastMessageText(messages);
    yield new FinishReason("stop");
    yield new Usage({ promptTokens: 2, completionTokens: 3 });
  }
}

describe("createCompletion", () => {
  it("collects text, finish reason and usage", async () => {
    const provider = new EchoProvider();
    const completion = await createCompletion(provider, "", [{ role: "user", content: "hi" }], {
      temperature: 0.1,
    });
    expect(completion.text).toBe("you said: hi");
    expect(completion.finishReason).toBe("stop");
    expect(completion.usage?.totalTokens).toBe(5);
    expect(provider.lastOptions?.temperature).toBe(0.1);
  });

  it("collects images with their prompt", async () => {
    const completion = await createCompletion(new EchoProvider(), "draw-1", [
      {
        role: "user",
        content: [
          { type: "text", text: "a cat" },
          { type: "image_url", image_url: { url: "x" } },
          { type: "text", text: "on a mat" },
        ],
      },
    ]);
    expect(completion.images).toEqual(["http://127.0.0.1/a.png", "http://127.0.0.1/b.png"]);
    expect(completion.imagePrompts).toEqual(["a cat\non a mat"]);
    expect(completion.text).toBe("");
  });
});

describe("the contract helpers", () => {
  it("accepts a provider that satisfies the contract and lists what another lacks", () => {
    expect(isProvider(new EchoProvider())).toBe(true);
    expect(providerContractViolations({ id: "x", label: 3 })).toContain(
      "label should be a string, got number",
    );
    expect(providerContractViolations(null)).toEqual(["is not an object"]);
  });

  it("tells content chunks from metadata", () => {
    expect(isContentChunk("a")).toBe(true);
    expect(isContentChunk("")).toBe(false);
    expect(isContentChunk(new FinishReason("stop"))).toBe(false);
    expect(isContentChunk(new ImageResponse(["u"], "p"))).toBe(true);
    expect(isContentChunk(new ImageResponse([], "p"))).toBe(false);
    expect(contentText("plain")).toBe("plain");
    expect(lastMessageText([])).toBe("");
  });
});
