import type {
  Chunk,
  FinishReason,
  ImageResponse,
  Reasoning,
  ResponseChunk,
  Usage,
} from "@g4f-ts/provider-core";

/*
 * Chunks are told apart by their `type` field rather than `instanceof`: a provider
 * package installed with its own copy of provider-core makes chunks of other
 * classes, and the registry must still understand them.
 */

function typeOf(chunk: Chunk): string | undefined {
  return typeof chunk === "object" && chunk !== null ? (chunk as ResponseChunk).type : undefined;
}

export function asImage(chunk: Chunk): ImageResponse | undefined {
  return typeOf(chunk) === "image" ? (chunk as ImageResponse) : undefined;
}

export function asFinishReason(chunk: Chunk): FinishReason | undefined {
  return typeOf(chunk) === "finish-reason" ? (chunk as FinishReason) : undefined;
}

export function asUsage(chunk: Chunk): Usage | undefined {
  return typeOf(chunk) === "usage" ? (chunk as Usage) : undefined;
}

export function asReasoning(chunk: Chunk): Reasoning | undefined {
  return typeOf(chunk) === "reasoning" ? (chunk as Reasoning) : undefined;
}

/**
 * True for a chunk that is part of the answer a client sees: text, images, or
 * visible reasoning. The first such chunk is the commit point of a stream;
 * metadata (finish reason, usage) is not.
 */
export function isAnswerContent(chunk: Chunk): boolean {
  if (typeof chunk === "string") return chunk.length > 0;
  switch (typeOf(chunk)) {
    case "image":
      return (chunk as ImageResponse).images.length > 0;
    case "reasoning":
      return (chunk as Reasoning).text.length > 0;
    default:
      return false;
  }
}
