import { isProvider, providerContractViolations } from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
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
  it("exports a ready default instance", () => {
    expect(entry.amigoChat).toBeInstanceOf(entry.AmigoChat);
    expect(isProvider(entry.amigoChat)).toBe(true);
  });
});
