import { notFoundRoute } from "../http-errors.js";
import { sendJson } from "../http-responses.js";
import type { RequestContext } from "../request-context.js";
import { consoleAsset } from "./console-assets.js";

/**
 * What every console file is sent with: checked again on each load, never framed,
 * and no request to any other origin (the page's images excepted: an image model's
 * answer is a set of URLs the user asked to see).
 */
const pageHeaders = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data: blob: http: https:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * `GET /` and `/console` (the page) and `/console/<file>` (its script, style and
 * libraries). The files load without an API key: they hold no data, and every data
 * call the page makes presents the key the user gives it.
 */
export async function answerConsoleFile(
  context: RequestContext,
  name: string,
  path: string,
): Promise<void> {
  const asset = context.registry.config.server.console ? consoleAsset(name) : undefined;
  if (asset === undefined) throw notFoundRoute(context.request.method ?? "GET", path);
  const { body, contentType } = await asset;
  context.response.writeHead(200, {
    ...pageHeaders,
    "content-type": contentType,
    "content-length": body.byteLength,
  });
  context.response.end(body);
}

/**
 * `GET /v1/console/stats`: every provider as `/v1/providers` describes it, with its
 * traffic over the last minutes (attempts, failures, cooldown skips and time to first
 * chunk per bucket, failures by reason, attempts in flight). Behind the API keys.
 */
export function answerConsoleStats(context: RequestContext, path: string): void {
  const { registry } = context;
  if (!registry.config.server.console) throw notFoundRoute(context.request.method ?? "GET", path);
  const { bucketMs, buckets } = registry.consoleStats.settings;
  sendJson(
    context.response,
    200,
    JSON.stringify({
      object: "console.stats",
      now: registry.consoleStats.now(),
      bucket_ms: bucketMs,
      window_ms: bucketMs * buckets,
      data: registry.describeProviders().map((provider) => ({
        ...provider,
        traffic: registry.consoleStats.traffic(provider.id),
      })),
      skipped: registry.problems,
    }),
    { "cache-control": "no-store" },
  );
}
