import { describe, expect, it } from "vitest";
import {
  EmbeddingsResponse,
  float32Base64,
  float32FromBase64,
  supportsEmbeddings,
} from "./embeddings.js";
import { isContentChunk } from "./response-chunks.js";

describe("embeddings", () => {
  it("writes a vector as OpenAI's base64 of little-endian float32 values", () => {
    expect(float32Base64([1, 0])).toBe("AACAPwAAAAA=");
    expect(float32Base64([])).toBe("");
  });

  it("reads the base64 it wrote back into the same float32 values", () => {
    const vector = [0.5, -2, 3.25, 0];
    expect(float32FromBase64(float32Base64(vector))).toEqual(vector);
    expect(float32FromBase64(float32Base64([0.1]))[0]).toBeCloseTo(0.1, 6);
  });

  it("tells a provider with the embeddings capability from one without", () => {
    expect(
      supportsEmbeddings({ embeddingModels: [], createEmbeddings: async () => ({ vectors: [] }) }),
    ).toBe(true);
    expect(supportsEmbeddings({ embeddingModels: ["e"] })).toBe(false);
    expect(supportsEmbeddings({ createEmbeddings: () => undefined })).toBe(false);
  });

  it("counts a whole embeddings answer as content, so nothing retries after it", () => {
    const chunk = new EmbeddingsResponse({ vectors: [[1]] });
    expect(isContentChunk(chunk)).toBe(true);
    expect(EmbeddingsResponse.isInstance(chunk)).toBe(true);
    expect(EmbeddingsResponse.isInstance({})).toBe(false);
  });
});
