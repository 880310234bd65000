import { describe, expect, it } from "vitest";
import { installCommand } from "./install-command.js";

describe("installCommand", () => {
  it("speaks the package manager that started the process", () => {
    const packages = ["@g4f-ts/provider-amigochat", "@g4f-ts/testkit"];
    expect(installCommand(packages, "pnpm/10.34.8 npm/? node/v20.20.2 linux x64")).toBe(
      "pnpm add @g4f-ts/provider-amigochat @g4f-ts/testkit",
    );
    expect(installCommand(packages, "yarn/4.9.0 npm/? node/v20.20.2 linux x64")).toBe(
      "yarn add @g4f-ts/provider-amigochat @g4f-ts/testkit",
    );
    expect(installCommand(packages, "npm/11.19.1 node/v20.20.2 linux x64 workspaces/false")).toBe(
      "npm install @g4f-ts/provider-amigochat @g4f-ts/testkit",
    );
  });

  it("falls back to npm when nothing says which manager runs it", () => {
    expect(installCommand(["g4f-ts-provider-echo"], "")).toBe("npm install g4f-ts-provider-echo");
  });
});
