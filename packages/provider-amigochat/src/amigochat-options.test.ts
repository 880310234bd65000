import { ProviderError } from "@g4f-ts/provider-core";
import { closedPortUrl } from "@g4f-ts/testkit";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AmigoChatOptionsError } from "./amigochat-options.js";
import { AmigoChat } from "./amigochat-provider.js";

beforeEach(() => {
  vi.stubEnv("AMIGOCHAT_BASE_URL", undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function thrownBy(action: () => unknown): AmigoChatOptionsError {
  try {
    action();
  } catch (error) {
    expect(AmigoChatOptionsError.isInstance(error)).toBe(true);
    return error as AmigoChatOptionsError;
  }
  throw new Error("expected an AmigoChatOptionsError");
}

async function rejectionOf(chunks: AsyncIterable<unknown>): Promise<AmigoChatOptionsError> {
  try {
    for await (const _chunk of chunks) {
      // nothing is expected before the failure
    }
  } catch (error) {
    expect(AmigoChatOptionsError.isInstance(error)).toBe(true);
    return error as AmigoChatOptionsError;
  }
  throw new Error("expected an AmigoChatOptionsError");
}

describe("an AmigoChat instance", () => {
  it("describes itself with the attributes of the reference", () => {
    const provider = new AmigoChat();
    expect(provider).toMatchObject({
      id: "amigochat",
      label: "AmigoChat",
      url: "https://amigochat.io/chat/",
      baseUrl: "https://api.amigochat.io",
      chatApiEndpoint: "https://api.amigochat.io/v1/chat/completions",
      imageApiEndpoint: "https://api.amigochat.io/v1/images/generations",
      supportsStream: true,
      supportsSystemMessage: true,
      supportsMessageHistory: true,
      needsAuth: false,
      defaultModel: "gpt-4o-mini",
    });
  });

  it("is not working against the real, long dead service", () => {
    expect(new AmigoChat().working).toBe(false);
  });

  it("builds its endpoints on a configured base URL and counts as working then", () => {
    const provider = new AmigoChat({ baseUrl: "http://127.0.0.1:8080/" });
    expect(provider.chatApiEndpoint).toBe("http://127.0.0.1:8080/v1/chat/completions");
    expect(provider.imageApiEndpoint).toBe("http://127.0.0.1:8080/v1/images/generations");
    expect(provider.working).toBe(true);
  });

  it("keeps a path prefix of the base URL", () => {
    const provider = new AmigoChat({ baseUrl: "http://127.0.0.1:8080/amigo" });
    expect(provider.chatApiEndpoint).toBe("http://127.0.0.1:8080/amigo/v1/chat/completions");
  });

  it("reads AMIGOCHAT_BASE_URL when it is made and no baseUrl option is given", () => {
    vi.stubEnv("AMIGOCHAT_BASE_URL", "http://127.0.0.1:7001");
    const provider = new AmigoChat();
    expect(provider.chatApiEndpoint).toBe("http://127.0.0.1:7001/v1/chat/completions");
    expect(provider.working).toBe(true);
    vi.stubEnv("AMIGOCHAT_BASE_URL", "http://127.0.0.1:7002");
    expect(provider.chatApiEndpoint).toBe("http://127.0.0.1:7001/v1/chat/completions");
  });

  it("prefers the baseUrl option to AMIGOCHAT_BASE_URL, and ignores an empty variable", () => {
    vi.stubEnv("AMIGOCHAT_BASE_URL", "http://127.0.0.1:7001");
    expect(new AmigoChat({ baseUrl: "http://127.0.0.1:7003" }).baseUrl).toBe(
      "http://127.0.0.1:7003",
    );
    vi.stubEnv("AMIGOCHAT_BASE_URL", " ");
    expect(new AmigoChat().baseUrl).toBe("https://api.amigochat.io");
  });

  it("takes its id, label and working flag from the options", () => {
    const provider = new AmigoChat({
      id: "amigo-local",
      label: "Amigo Local",
      baseUrl: "http://127.0.0.1:1",
      working: false,
    });
    expect(provider).toMatchObject({ id: "amigo-local", label: "Amigo Local", working: false });
    expect(new AmigoChat({ working: true }).working).toBe(true);
  });

  it("ignores keys it does not know, which a registry's config may carry", () => {
    expect(() => new AmigoChat({ enabled: true } as never)).not.toThrow();
  });
});

describe("invalid options", () => {
  it.each([
    [{ baseUrl: "ftp://127.0.0.1" }, "baseUrl"],
    [{ baseUrl: "not a url" }, "baseUrl"],
    [{ baseUrl: "http://127.0.0.1:1/?x=1" }, "baseUrl"],
    [{ proxy: "socks://127.0.0.1:1080" }, "proxy"],
    [{ id: "" }, "id"],
    [{ label: 7 }, "label"],
    [{ working: "yes" }, "working"],
    [{ retry: { maxAttempts: 0 } }, "retry.maxAttempts"],
    [{ retry: { maxAttempts: 1.5 } }, "retry.maxAttempts"],
    [{ retry: { baseDelayMs: -1 } }, "retry.baseDelayMs"],
    [{ retry: { maxAttempt: 2 } }, "retry.maxAttempt"],
    [{ timeouts: { firstByteMs: 0 } }, "timeouts.firstByteMs"],
    [{ timeouts: { totalMs: Number.POSITIVE_INFINITY } }, "timeouts.totalMs"],
  ])("%j fail with AmigoChatOptionsError naming %s", (options, field) => {
    const error = thrownBy(() => new AmigoChat(options as never));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`"${field}"`);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.retryable).toBe(false);
    expect(error.name).toBe("AmigoChatOptionsError");
  });

  it("never echo the value, which may hold a proxy's credentials", () => {
    const error = thrownBy(() => new AmigoChat({ proxy: "ftp://user:s3cret@127.0.0.1:21" }));
    expect(error.message).not.toContain("s3cret");
  });

  it("include options that are not an object", () => {
    expect(thrownBy(() => new AmigoChat("http://127.0.0.1" as never)).field).toBe("(options)");
  });

  it("include a bad AMIGOCHAT_BASE_URL, named as the variable", () => {
    vi.stubEnv("AMIGOCHAT_BASE_URL", "127.0.0.1:8080");
    const error = thrownBy(() => new AmigoChat());
    expect(error.field).toBe("AMIGOCHAT_BASE_URL");
    expect(error.message).toContain("AMIGOCHAT_BASE_URL");
  });
});

describe("invalid call options", () => {
  const provider = new AmigoChat({ baseUrl: "http://127.0.0.1:9" });
  const hello = [{ role: "user" as const, content: "Hi" }];

  it.each([
    [{ temperature: "hot" }, "temperature"],
    [{ maxTokens: -1 }, "maxTokens"],
    [{ maxTokens: 1.5 }, "maxTokens"],
    [{ timeout: 0 }, "timeout"],
    [{ stream: "yes" }, "stream"],
    [{ proxy: "nope" }, "proxy"],
    [{ signal: {} }, "signal"],
    [{ chatId: "" }, "chatId"],
  ])("%j fail before anything is sent, naming %s", async (options, field) => {
    const error = await rejectionOf(
      provider.createAsyncGenerator("gpt-4o-mini", hello, options as never),
    );
    expect(error.field).toBe(field);
  });

  it("include a misspelled option, named with the closest known one, and nothing is sent", async () => {
    const error = await rejectionOf(
      provider.createAsyncGenerator("gpt-4o-mini", hello, { temprature: 0.2 } as never),
    );
    expect(error.field).toBe("temprature");
    expect(error.message).toContain('Did you mean "temperature"?');
  });

  it("include two different values for one option in both spellings", async () => {
    const error = await rejectionOf(
      provider.createAsyncGenerator("gpt-4o-mini", hello, { maxTokens: 5, max_tokens: 6 } as never),
    );
    expect(error.field).toBe("max_tokens");
  });

  it("accept null as absent, as a JSON request may send it", async () => {
    const provider = new AmigoChat({ baseUrl: await closedPortUrl(), retry: { maxAttempts: 1 } });
    const call = provider.createAsyncGenerator("gpt-4o-mini", hello, {
      temperature: null,
      proxy: null,
    } as never);
    // Nothing listens there: the options passed, the connection did not.
    await expect(call.next()).rejects.toMatchObject({ name: "ConnectionError" });
  });

  it("include messages that are not a list of role and content", async () => {
    expect(
      (await rejectionOf(provider.createAsyncGenerator("gpt-4o-mini", "hi" as never))).field,
    ).toBe("messages");
    expect(
      (await rejectionOf(provider.createAsyncGenerator("gpt-4o-mini", [{ role: "user" }] as never)))
        .field,
    ).toBe("messages.0.content");
  });
});
