import { formatSchemaIssues } from "@g4f-ts/provider-core/internal";
import type { ZodError } from "zod";
import { HttpError, invalidField } from "./http-errors.js";

/**
 * Fields that would make the server fetch an address of the caller's choosing.
 * They come from the config only, so a request that sets one is refused rather
 * than quietly ignored (chat, images and Responses alike).
 */
export const forbiddenFields = [
  "proxy",
  "base_url",
  "baseUrl",
  "baseURL",
  "api_base",
  "apiBase",
  "upstream",
] as const;

/** What every request body must be: a JSON object that sets no upstream address or proxy. */
export function checkRequestObject(body: unknown): asserts body is Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new HttpError(400, "The request body must be a JSON object", { code: "invalid_value" });
  for (const field of forbiddenFields) {
    if (Object.hasOwn(body, field))
      throw invalidField(
        field,
        `\`${field}\` can not be set by a request; upstream addresses and proxies come from the server's config`,
      );
  }
}

/** A schema's refusal as OpenAI's 400, naming the first field it is about. */
export function schemaError(error: ZodError): HttpError {
  const first = error.issues[0];
  const param = first === undefined || first.path.length === 0 ? null : first.path.join(".");
  return new HttpError(400, `Invalid request: ${formatSchemaIssues(error)}`, {
    code: "invalid_value",
    param,
  });
}
