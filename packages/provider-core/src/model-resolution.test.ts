import { describe, expect, it } from "vitest";
import { closeNames, ModelCatalog, resolveModel } from "./model-resolution.js";
import { ModelNotSupportedError } from "./provider-errors.js";

const table = {
  label: "Example",
  defaultModel: "small",
  chatModels: ["small", "gpt-4o", "gpt-4o-2024-11-20", "meta-llama/Llama-3-8b", "llama3:8b"],
  imageModels: ["painter"],
  modelAliases: { "gpt-4o": "gpt-4o-2024-11-20", fast: "small" },
};

describe("resolveModel", () => {
  it("gives the default model for an empty or missing name", () => {
    expect(resolveModel(table, "")).toBe("small");
    expect(resolveModel(table, undefined)).toBe("small");
  });

  it("looks at aliases before models, so an alias shadows a model of the same name", () => {
    expect(resolveModel(table, "gpt-4o")).toBe("gpt-4o-2024-11-20");
    expect(resolveModel(table, "fast")).toBe("small");
  });

  it("accepts chat and image model ids verbatim, slashes and colons included", () => {
    expect(resolveModel(table, "meta-llama/Llama-3-8b")).toBe("meta-llama/Llama-3-8b");
    expect(resolveModel(table, "llama3:8b")).toBe("llama3:8b");
    expect(resolveModel(table, "painter")).toBe("painter");
  });

  it("throws ModelNotSupportedError naming the provider, the model and a few close names", () => {
    let caught: unknown;
    try {
      resolveModel(table, "gpt-4");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ModelNotSupportedError);
    const error = caught as ModelNotSupportedError;
    expect(error.provider).toBe("Example");
    expect(error.model).toBe("gpt-4");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('Model "gpt-4" is not supported by Example');
    expect(error.suggestions).toContain("gpt-4o");
    expect(error.suggestions.length).toBeLessThanOrEqual(3);
  });

  it("suggests nothing for a name far from every model, instead of listing them all", () => {
    expect(closeNames("zzzzzzzzzzzz", table.chatModels)).toEqual([]);
  });
});

describe("ModelCatalog", () => {
  it("lists chat then image models and resolves through the table", () => {
    const catalog = new ModelCatalog(table);
    expect(catalog.getModels()).toEqual([...table.chatModels, ...table.imageModels]);
    expect(catalog.getModel("gpt-4o")).toBe("gpt-4o-2024-11-20");
    expect(catalog.isImageModel("painter")).toBe(true);
    expect(() => catalog.getModel("nope")).toThrow(ModelNotSupportedError);
  });

  it("resolves every name as resolveModel does, from a map made once, and fails the same way", () => {
    const catalog = new ModelCatalog(table);
    const names = [
      "",
      undefined,
      ...table.chatModels,
      ...table.imageModels,
      ...Object.keys(table.modelAliases),
      "gpt-4",
      "__proto__",
      "toString",
    ];
    const outcome = (resolve: () => string) => {
      try {
        return resolve();
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    for (const name of names)
      expect(outcome(() => catalog.getModel(name))).toEqual(
        outcome(() => resolveModel(table, name)),
      );
    for (const model of [...table.chatModels, ...table.imageModels, "nope"])
      expect(catalog.isImageModel(model)).toBe(table.imageModels.includes(model));
  });
});
