import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The root export is the documented API (README.md); the rest is at "./internal".
// Widening either list is a deliberate change: update it here, document the new name,
// and add a changeset.
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("the package's surface", () => {
  it("exports at its root exactly the names its README documents", async () => {
    expect(Object.keys(await import("./index.js")).sort()).toEqual([
      "AmigoChat",
      "AmigoChatOptionsError",
      "amigoChat",
      "amigoChatModelTable",
      "providerPlugin",
    ]);
  });

  it("names every root export in its README", async () => {
    const undocumented = Object.keys(await import("./index.js")).filter(
      (name) => !readme.includes(`\`${name}\``),
    );
    expect(undocumented).toEqual([]);
  });

  it("exports its internals at ./internal, none of them also at the root", async () => {
    const root = await import("./index.js");
    const internal = Object.keys(await import("./internal.js")).sort();
    expect(internal).toEqual([
      "amigoChatBaseUrlVariable",
      "amigoChatCallDefaults",
      "amigoChatCapabilities",
      "amigoChatChatPath",
      "amigoChatClientVersion",
      "amigoChatDefaultBaseUrl",
      "amigoChatHeaders",
      "amigoChatImageAnswerSchema",
      "amigoChatImagePath",
      "amigoChatImageUrls",
      "amigoChatSiteUrl",
    ]);
    expect(internal.filter((name) => name in root)).toEqual([]);
  });
});
