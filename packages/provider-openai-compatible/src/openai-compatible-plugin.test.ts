import { isProvider, providerContractViolations } from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import * as entry from "./index.js";

describe("the provider plugin", () => {
  it("is exported by the entry module that package.json declares", () => {
    expect(packageJson["g4f-ts"].provider).toBe("./dist/index.js");
    expect(entry.providerPlugin.name).toBe("openai-compatible");
  });

  it("creates one instance per config entry, each with its own id and base URL", () => {
    const ollama = entry.providerPlugin.createProvider({
      id: "ollama",
      baseUrl: "http://127.0.0.1:11434/v1",
    });
    const hosted = entry.providerPlugin.createProvider({
      id: "hosted",
      baseUrl: "https://api.example.com/v1",
      apiKey: "sk-0123456789",
      models: ["big-model"],
    });
    for (const provider of [ollama, hosted]) {
      expect(providerContractViolations(provider)).toEqual([]);
      expect(isProvider(provider)).toBe(true);
      expect(provider).toBeInstanceOf(entry.OpenAICompatible);
    }
    expect(ollama).toMatchObject({ id: "ollama", label: "ollama", needsAuth: false });
    expect(hosted).toMatchObject({ id: "hosted", needsAuth: true, defaultModel: "big-model" });
    expect(ollama.getModels()).toEqual([]);
    expect(hosted.getModels()).toEqual(["big-model"]);
  });

  it("rejects options without a base URL with an error naming the field", () => {
    expect(() => entry.providerPlugin.createProvider({ id: "ollama" })).toThrow(/"baseUrl"/);
    expect(() => entry.providerPlugin.createProvider()).toThrow(/"baseUrl"/);
  });
});
