import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The root export is the documented API (README.md, docs/writing-a-provider.md); the
// rest is at "./internal". Widening either list is a deliberate change: update it here,
// document the new name, and add a changeset.
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("the package's surface", () => {
  it("exports at its root exactly the names its README and the provider guide document", async () => {
    expect(Object.keys(await import("./index.js")).sort()).toEqual([
      "AbortError",
      "Call",
      "CallDeadline",
      "CallPipeline",
      "ChoiceChunk",
      "ConnectionError",
      "ContextLengthExceededError",
      "EmbeddingsResponse",
      "FinishReason",
      "ImageResponse",
      "InvalidOptionsError",
      "InvalidResponseError",
      "Logprobs",
      "MissingAuthError",
      "ModelCatalog",
      "ModelNotSupportedError",
      "PaymentRequiredError",
      "ProviderError",
      "RateLimitError",
      "Reasoning",
      "Refusal",
      "ResponseChunk",
      "ResponseMetadata",
      "ResponseStatusError",
      "ResponseTooLargeError",
      "SseEventDecoder",
      "StreamInterruptedError",
      "TimeoutError",
      "ToolCallAssembler",
      "ToolCallDelta",
      "ToolCalls",
      "Usage",
      "callFeatureWireNames",
      "callFeatures",
      "capabilitiesOf",
      "capabilityNeeds",
      "closeDispatchers",
      "closeDispatchersWithin",
      "completionOf",
      "contentText",
      "createCompletion",
      "decodeSseStream",
      "defineOptionsError",
      "defineProviderPlugin",
      "describeNeed",
      "errorFromStatus",
      "float32Base64",
      "float32FromBase64",
      "fullModelCapabilities",
      "imageMarkdown",
      "imageModelCapabilities",
      "isContentChunk",
      "isProvider",
      "lastMessageText",
      "openAIRequestFields",
      "openAISamplingFields",
      "plainMessages",
      "postJson",
      "providerContractViolations",
      "providerPackageField",
      "readJson",
      "readOpenAIChatResponse",
      "readOptions",
      "redactSecrets",
      "samplingFeatures",
      "sendRequest",
      "supportsEmbeddings",
      "textModelCapabilities",
      "unmetNeeds",
      "upstreamSnippet",
      "withRetries",
    ]);
  });

  it("names every root export in its README", async () => {
    const undocumented = Object.keys(await import("./index.js")).filter(
      (name) => !readme.includes(`\`${name}\``),
    );
    expect(undocumented).toEqual([]);
  });

  it("exports the workspace's shared internals at ./internal, none of them also at the root", async () => {
    const root = await import("./index.js");
    const internal = Object.keys(await import("./internal.js")).sort();
    expect(internal).toEqual([
      "CallOptionsReader",
      "DeadlineTimer",
      "OpenAIChatChunkMapper",
      "TextAccumulator",
      "TextTail",
      "baseUrlSchema",
      "callOptionsShape",
      "checkMessages",
      "chunkText",
      "closeNames",
      "defaultHttpTimeouts",
      "defaultMaxCompletionCharacters",
      "defaultRetryPolicy",
      "defaultTailCharacters",
      "describeBody",
      "errorFromPayload",
      "extraBodyKeyProblem",
      "extraBodySchema",
      "formatSchemaIssues",
      "g4fOptionSpellings",
      "getDispatcher",
      "httpProviderOptionsShape",
      "httpTimeoutsSchema",
      "httpUrlSchema",
      "isRetryableStatus",
      "openAIChatChunkSchema",
      "openAIChatCompletionSchema",
      "parseRetryAfter",
      "providerBodyFields",
      "redactionMark",
      "resolveModel",
      "retryDelayMs",
      "retryPolicySchema",
      "secretsOfHeaderValue",
      "secretsOfHeaders",
      "secretsOfUrl",
      "toProviderError",
      "trimBody",
    ]);
    expect(internal.filter((name) => name in root)).toEqual([]);
  });
});
