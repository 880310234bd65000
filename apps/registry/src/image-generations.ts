import { InvalidResponseError } from "@g4f-ts/provider-core";
import { attemptsHeader } from "./attempts-header.js";
import { clientIdentity } from "./client-identity.js";
import { collectAnswer } from "./fallback.js";
import { sendJson } from "./http-responses.js";
import { imagesBody, parseImageRequest } from "./openai-wire.js";
import type { RequestContext } from "./request-context.js";

/**
 * `POST /v1/images/generations` (and `/api/<provider>/images/generations`): route
 * to image models only, fall back until a provider answers with image URLs, and
 * answer `{ created, data: [{ url }] }`.
 */
export async function handleImageGeneration(
  context: RequestContext,
  body: unknown,
  pin: string | undefined,
): Promise<void> {
  const request = parseImageRequest(body);
  const candidates = context.registry.resolve(request.model, pin ?? request.provider, "image");
  const run = context.registry.run(candidates, {
    requestedModel: request.model ?? pin ?? "",
    messages: [{ role: "user", content: request.prompt }],
    options: {},
    signal: context.signal,
    logger: context.logger,
    requestId: context.requestId,
    client: clientIdentity(context.request, context.registry.config.server.apiKeys.length > 0),
  });
  try {
    const { candidate, answer } = await collectAnswer(run, (gathered, attempted) =>
      gathered.images.length > 0
        ? undefined
        : new InvalidResponseError({
            provider: attempted.entry.provider.label,
            message: `${attempted.entry.provider.label} answered without any image`,
          }),
    );
    context.provider = candidate.entry.id;
    const urls = answer.images.slice(0, request.n ?? undefined);
    sendJson(
      context.response,
      200,
      imagesBody(Math.floor(Date.now() / 1000), candidate.entry.id, urls, request.prompt),
      { "x-g4f-provider": candidate.entry.id, ...attemptsHeader(run.failures) },
    );
  } finally {
    context.failedAttempts = run.failures.length;
  }
}
