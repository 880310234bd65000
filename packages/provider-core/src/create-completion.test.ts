import { describe, expect, it } from "vitest";
import { createCompletion } from "./create-completion.js";
import type { Messages } from "./messages.js";
import { contentText, lastMessageText } from "./messages.js";
import { ModelCatalog } from "./model-resolution.js";
import type { AsyncGeneratorProvider, ProviderOptions } from "./provider.js";
import { isProvider, providerContractViolations } from "./provider.js";
import { ResponseTooLargeError } from "./provider-errors.js";
import {
  type AsyncResult,
  FinishReason,
  ImageResponse,
  isContentChunk,
  Reasoning,
  Usage,
} from "./response-chunks.js";

/** A provider whose answer never ends: `piece` again and again, until the caller leaves. */
class EndlessProvider extends ModelCatalog implements AsyncGeneratorProvider {
  readonly id = "endless";
  readonly label = "Endless";
  readonly url = "http://127.0.0.1";
  readonly working = true;
  readonly supportsStream = true;
  readonly supportsSystemMessage = true;
  readonly supportsMessageHistory = true;
  readonly needsAuth = false;
  yielded = 0;
  closed = false;

  constructor(readonly piece: () => string | Reasoning) {
    super({ label: "Endless", defaultModel: "endless-1", chatModels: ["endless-1"] });
  }

  async *createAsyncGenerator(): AsyncResult {
    try {
      for (;;) {
        this.yielded++;
        yield this.piece();
      }
    } finally {
      this.closed = true;
    }
  }
}

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

describe("createCompletion's cap", () => {
  const question: Messages = [{ role: "user", content: "go on forever" }];

  it("stops an endless answer at maxCharacters with a ResponseTooLargeError and closes the call", async () => {
    const provider = new EndlessProvider(() => "0123456789");
    const error = await createCompletion(provider, "", question, { maxCharacters: 1000 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as ResponseTooLargeError).limit).toBe(1000);
    expect((error as ResponseTooLargeError).limitName).toBe("maxCharacters");
    expect((error as Error).message).toContain("1000 characters (maxCharacters)");
    expect(provider.yielded).toBe(101);
    expect(provider.closed).toBe(true);
  });

  it("counts non-text chunks too, so endless reasoning is stopped as well", async () => {
    const provider = new EndlessProvider(() => new Reasoning("r"));
    const error = await createCompletion(provider, "", question, { maxCharacters: 6500 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(provider.yielded).toBe(101);
  });

  it("stops at 32 MiB by default, and never passes maxCharacters on to the provider", async () => {
    const provider = new EndlessProvider(() => "x".repeat(1024 * 1024));
    const error = await createCompletion(provider, "", question).catch((caught: unknown) => caught);
    expect((error as ResponseTooLargeError).limit).toBe(32 * 1024 * 1024);
    expect(provider.yielded).toBe(33);
    const echo = new EchoProvider();
    await createCompletion(echo, "", question, { maxCharacters: 1000, temperature: 1 });
    expect(echo.lastOptions).toEqual({ temperature: 1 });
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
