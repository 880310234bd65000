import type { RecordedRequest } from "./test-server.js";

/** The request body when it is a JSON object, so a fake can read fields without casts. */
export function jsonObjectBody(request: RecordedRequest): Record<string, unknown> | undefined {
  const body = request.json;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  return body as Record<string, unknown>;
}
