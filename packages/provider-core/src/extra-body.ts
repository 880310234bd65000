import { z } from "zod";

/** Fields of a request body a provider writes itself, which `extraBody` must not set. */
export const providerBodyFields: ReadonlySet<string> = new Set(["model", "messages", "stream"]);

// Keys, lowercased without `_` and `-`, that tell a proxying upstream (LiteLLM, a
// gateway) where to send the request: a client setting one could point the
// operator's upstream, and its key, at an address of the client's choice.
const addressKeys: ReadonlySet<string> = new Set([
  "apibase",
  "apiurl",
  "apihost",
  "apiendpoint",
  "baseurl",
  "endpoint",
  "url",
  "host",
  "hostname",
  "proxy",
  "proxies",
  "proxyurl",
  "httpproxy",
  "httpsproxy",
  "allproxy",
]);

/**
 * Why `key` may not be a field of a call's `extraBody` (undefined when it may): the
 * provider sets `model`, `messages` and `stream` itself, and a key that sets an
 * address (`base_url`, `api_base`, `proxy`, …) could send the request elsewhere.
 */
export function extraBodyKeyProblem(key: string): string | undefined {
  if (providerBodyFields.has(key)) return "is set by the provider, not through extraBody";
  if (addressKeys.has(key.toLowerCase().replace(/[-_]/g, ""))) {
    return "would set an address the request goes to, which a call may not choose";
  }
  return undefined;
}

/** A call's `extraBody`: any JSON fields but those {@link extraBodyKeyProblem} refuses, each named. */
export const extraBodySchema = z.record(z.string(), z.unknown()).superRefine((body, context) => {
  for (const key of Object.keys(body)) {
    const problem = extraBodyKeyProblem(key);
    if (problem !== undefined) context.addIssue({ code: "custom", path: [key], message: problem });
  }
});
