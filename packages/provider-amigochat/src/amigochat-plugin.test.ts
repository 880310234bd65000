import { isProvider, providerContractViolations } from "@g4f-ts/provider-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import * as entry from "./index.js";

describe("the provider plugin", () => {
  it("is exported by the entry module that package.json declares", () => {
    expect(packageJson["g4f-ts"].provider).toBe("./dist/index.js");
    expect(entry.providerPlugin.name).toBe("amigochat");
  });

  it("creates providers that satisfy the contract, with the registry's options", () => {
    const provider = entry.providerPlugin.createProvider({
      id: "amigo-local",
      baseUrl: "http://127.0.0.1:8080",
    });
    expect(providerContractViolations(provider)).toEqual([]);
    expect(isProvider(provider)).toBe(true);
    expect(provider).toBeInstanceOf(entry.AmigoChat);
    expect(provider).toMatchObject({ id: "amigo-local", working: true });
    expect(provider.getModel("gpt-4o")).toBe("gpt-4o-2024-11-20");
  });

  it("creates a provider without options", () => {
    expect(isProvider(entry.providerPlugin.createProvider())).toBe(true);
  });

  it("rejects bad options with an error naming the field", () => {
    expect(() => entry.providerPlugin.createProvider({ baseUrl: 42 })).toThrow(/"baseUrl"/);
  });
});

describe("the entry module", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("imports without throwing under a bad AMIGOCHAT_BASE_URL, and names the variable when the default instance is used", async () => {
    vi.stubEnv("AMIGOCHAT_BASE_URL", "not a url");
    vi.resetModules();
    const fresh = await import("./index.js");
    let thrown: unknown;
    try {
      void fresh.amigoChat.label;
    } catch (error) {
      thrown = error;
    }
    expect(fresh.AmigoChatOptionsError.isInstance(thrown)).toBe(true);
    expect((thrown as { field: string }).field).toBe("AMIGOCHAT_BASE_URL");
    expect((thrown as Error).message).toContain("AMIGOCHAT_BASE_URL");
    expect(() => fresh.providerPlugin.createProvider()).toThrow(/AMIGOCHAT_BASE_URL/);
  });

  it("lets the default instance work as an AmigoChat, methods included", async () => {
    expect(entry.amigoChat.getPersonaId("gpt-4o-mini")).toBe("amigo");
    expect(entry.amigoChat.defaultImageModel).toBe("flux-realism");
    expect(Object.keys(entry.amigoChat)).toContain("chatApiEndpoint");
  });

  it("exports a ready default instance", () => {
    expect(entry.amigoChat).toBeInstanceOf(entry.AmigoChat);
    expect(isProvider(entry.amigoChat)).toBe(true);
  });
});
