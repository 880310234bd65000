import { ProviderError } from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import {
  OpenAICompatibleOptionsError,
  parseOpenAICompatibleOptions,
} from "./openai-compatible-options.js";
import { OpenAICompatible } from "./openai-compatible-provider.js";

const baseUrl = "http://127.0.0.1:11434/v1";

function thrownBy(action: () => unknown): OpenAICompatibleOptionsError {
  try {
    action();
  } catch (error) {
    expect(OpenAICompatibleOptionsError.isInstance(error)).toBe(true);
    return error as OpenAICompatibleOptionsError;
  }
  throw new Error("expected an OpenAICompatibleOptionsError");
}

describe("an OpenAICompatible instance", () => {
  it("describes itself from its options, with the defaults", () => {
    const provider = new OpenAICompatible({ baseUrl: `${baseUrl}/` });
    expect(provider).toMatchObject({
      id: "openai-compatible",
      label: "OpenAI-compatible",
      url: "http://127.0.0.1:11434",
      baseUrl,
      chatApiEndpoint: `${baseUrl}/chat/completions`,
      imageApiEndpoint: `${baseUrl}/images/generations`,
      modelsEndpoint: `${baseUrl}/models`,
      working: true,
      needsAuth: false,
      supportsStream: true,
      supportsSystemMessage: true,
      supportsMessageHistory: true,
      modelsTtlMs: 300_000,
    });
  });

  it("is labelled by its id unless a label is given", () => {
    expect(new OpenAICompatible({ id: "ollama", baseUrl }).label).toBe("ollama");
    expect(new OpenAICompatible({ id: "ollama", label: "Ollama", baseUrl }).label).toBe("Ollama");
  });

  it("needs auth when a key is configured, unless told otherwise", () => {
    expect(new OpenAICompatible({ baseUrl, apiKey: "sk-123456789" }).needsAuth).toBe(true);
    expect(
      new OpenAICompatible({ baseUrl, apiKey: "sk-123456789", needsAuth: false }).needsAuth,
    ).toBe(false);
  });

  it("keeps a path prefix of the base URL", () => {
    const provider = new OpenAICompatible({ baseUrl: "https://gateway.example/openai/v1" });
    expect(provider.chatApiEndpoint).toBe("https://gateway.example/openai/v1/chat/completions");
    expect(provider.url).toBe("https://gateway.example");
  });
});

describe("the options", () => {
  it("require a baseUrl", () => {
    const error = thrownBy(() => parseOpenAICompatibleOptions({ id: "ollama" }));
    expect(error.field).toBe("baseUrl");
    expect(error.message).toMatch(/^ollama: invalid option "baseUrl"/);
    expect(error.retryable).toBe(false);
    expect(ProviderError.isInstance(error)).toBe(true);
  });

  it("must be an object", () => {
    expect(thrownBy(() => parseOpenAICompatibleOptions(undefined)).field).toBe("(options)");
    expect(thrownBy(() => parseOpenAICompatibleOptions("http://x")).field).toBe("(options)");
  });

  it.each([
    ["ftp://127.0.0.1/v1", /http:\/\/ or https:\/\//],
    ["127.0.0.1:11434/v1", /http:\/\/ or https:\/\//],
    ["http://127.0.0.1:11434/v1?key=1", /without a query/],
    ["http://user:secret-password@127.0.0.1/v1", /credentials/],
  ])("reject the base URL %s", (url, message) => {
    const error = thrownBy(() => parseOpenAICompatibleOptions({ baseUrl: url }));
    expect(error.field).toBe("baseUrl");
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("secret-password");
  });

  it("reject an unknown option and name the closest one", () => {
    const error = thrownBy(() => parseOpenAICompatibleOptions({ baseUrl, apikey: "sk-1" }));
    expect(error.field).toBe("apikey");
    expect(error.message).toContain('Did you mean "apiKey"?');
  });

  it("name the dotted path of a bad nested field", () => {
    const retry = thrownBy(() =>
      parseOpenAICompatibleOptions({ baseUrl, retry: { maxAttempts: 0 } }),
    );
    expect(retry.field).toBe("retry.maxAttempts");
    const timeouts = thrownBy(() =>
      parseOpenAICompatibleOptions({ baseUrl, timeouts: { idleMs: -1 } }),
    );
    expect(timeouts.field).toBe("timeouts.idleMs");
    const models = thrownBy(() => parseOpenAICompatibleOptions({ baseUrl, models: ["a", ""] }));
    expect(models.field).toBe("models.1");
    expect(thrownBy(() => parseOpenAICompatibleOptions({ baseUrl, modelsTtlMs: -5 })).field).toBe(
      "modelsTtlMs",
    );
  });

  it("send the key as a bearer token, over an authorization header of their own", () => {
    const settings = parseOpenAICompatibleOptions({
      baseUrl,
      apiKey: " sk-live-0123456789 ",
      headers: { Authorization: "Bearer other", "X-Title": "g4f-ts" },
    });
    expect(settings.headers).toEqual({
      authorization: "Bearer sk-live-0123456789",
      "x-title": "g4f-ts",
    });
    expect(settings.secrets).toContain("sk-live-0123456789");
    expect(settings.hasApiKey).toBe(true);
  });

  it("treat the values of credential-like headers as secrets", () => {
    const settings = parseOpenAICompatibleOptions({
      baseUrl,
      headers: { "x-goog-api-key": "goog-secret-1", "X-Session-Token": "session-secret-2" },
    });
    expect(settings.secrets).toEqual(["goog-secret-1", "session-secret-2"]);
  });

  it("read the key from the variable apiKeyEnv names", () => {
    const settings = parseOpenAICompatibleOptions(
      { baseUrl, apiKeyEnv: "HOSTED_API_KEY" },
      { HOSTED_API_KEY: "sk-from-env-123\n" },
    );
    expect(settings.headers.authorization).toBe("Bearer sk-from-env-123");
    expect(settings.secrets).toEqual(["sk-from-env-123"]);
  });

  it("name apiKeyEnv and its variable when the variable is not set", () => {
    const error = thrownBy(() =>
      parseOpenAICompatibleOptions({ baseUrl, apiKeyEnv: "MISSING_KEY" }, {}),
    );
    expect(error.field).toBe("apiKeyEnv");
    expect(error.message).toContain("MISSING_KEY is not set");
  });

  it("refuse both apiKey and apiKeyEnv", () => {
    const error = thrownBy(() =>
      parseOpenAICompatibleOptions({ baseUrl, apiKey: "sk-1", apiKeyEnv: "KEY" }, { KEY: "x" }),
    );
    expect(error.field).toBe("apiKeyEnv");
  });

  it("never echo a bad key or header value", () => {
    const key = thrownBy(() =>
      parseOpenAICompatibleOptions({ baseUrl, apiKey: "sk-has a-space-9876" }),
    );
    expect(key.field).toBe("apiKey");
    expect(key.message).not.toContain("9876");
    const fromEnvironment = thrownBy(() =>
      parseOpenAICompatibleOptions({ baseUrl, apiKeyEnv: "KEY" }, { KEY: "sk-env has-space-5432" }),
    );
    expect(fromEnvironment.message).not.toContain("5432");
    const header = thrownBy(() =>
      parseOpenAICompatibleOptions({ baseUrl, headers: { "x-api-key": "line\nbreak-1234" } }),
    );
    expect(header.field).toBe("headers.x-api-key");
    expect(header.message).not.toContain("1234");
  });

  it("check a fixed list against defaultModel and the alias targets", () => {
    expect(
      thrownBy(() => parseOpenAICompatibleOptions({ baseUrl, models: ["a"], defaultModel: "b" }))
        .field,
    ).toBe("defaultModel");
    expect(
      thrownBy(() =>
        parseOpenAICompatibleOptions({ baseUrl, models: ["a"], modelAliases: { x: "b" } }),
      ).field,
    ).toBe("modelAliases.x");
    expect(thrownBy(() => parseOpenAICompatibleOptions({ baseUrl, models: [] })).field).toBe(
      "models",
    );
    const images = parseOpenAICompatibleOptions({
      baseUrl,
      models: [],
      imageModels: ["dall-e-3"],
      defaultModel: "dall-e-3",
    });
    expect(images.models).toEqual([]);
  });

  it("leave the list to be fetched when no models are given", () => {
    const settings = parseOpenAICompatibleOptions({ baseUrl, defaultModel: "anything" });
    expect(settings.models).toBeUndefined();
    expect(settings.defaultModel).toBe("anything");
  });
});

describe("the call options", () => {
  const provider = new OpenAICompatible({ baseUrl, models: ["m"], retry: { maxAttempts: 1 } });
  const hello = [{ role: "user" as const, content: "Hi" }];
  const rejectionOf = async (options: unknown, messages: unknown = hello) => {
    try {
      await provider.createAsyncGenerator("m", messages as never, options as never).next();
    } catch (error) {
      expect(OpenAICompatibleOptionsError.isInstance(error)).toBe(true);
      return error as OpenAICompatibleOptionsError;
    }
    throw new Error("expected an OpenAICompatibleOptionsError");
  };

  it("name a bad field", async () => {
    const error = await rejectionOf({ temperature: "hot" });
    expect(error.field).toBe("temperature");
    expect(error.message).toMatch(/: invalid call option "temperature"/);
    expect((await rejectionOf({ maxTokens: 1.5 })).field).toBe("maxTokens");
    expect((await rejectionOf({ n: 0 })).field).toBe("n");
  });

  it("refuse an option of another provider, or a misspelled one, naming the closest known option", async () => {
    const error = await rejectionOf({ chatId: "abc" });
    expect(error.field).toBe("chatId");
    expect((await rejectionOf({ extrabody: {} })).message).toContain('Did you mean "extraBody"?');
  });

  it("refuse messages that are not a list of role and content, naming the field", async () => {
    expect((await rejectionOf({}, [{ role: "user" }])).field).toBe("messages.0.content");
    expect((await rejectionOf({}, "Hi")).field).toBe("messages");
  });
});
