import { InvalidResponseError } from "@g4f-ts/provider-core";
import type { GatheredAnswer } from "./answer-collector.js";
import { droppedFieldsHeader, requestNeeds, routeByCapabilities } from "./capability-routing.js";
import { droppedParamsHeader } from "./chat-answer-wire.js";
import { clientIdentity } from "./client-identity.js";
import { collectAnswer } from "./fallback.js";
import { sendJson } from "./http-responses.js";
import type { Candidate } from "./model-router.js";
import {
  base64Of,
  type ImageDatum,
  imagesBody,
  parseImageRequest,
  toImageOptions,
} from "./openai-wire.js";
import type { RequestContext } from "./request-context.js";

/**
 * `POST /v1/images/generations` (and `/api/<provider>/images/generations`): route
 * to the image models that can honour every field (`n` > 1 needs the `n`
 * feature; `size`, `quality`, `style`, `response_format: "b64_json"` and other
 * fields are forwarded through `extraBody`), fall back until a provider answers
 * with images, and answer `{ created, data: [{ url } | { b64_json }] }`.
 * `b64_json` is served from the `data:` URLs a provider yields for base64 images;
 * an attempt that answers a plain URL instead is that attempt's failure.
 */
export async function handleImageGeneration(
  context: RequestContext,
  body: unknown,
  pin: string | undefined,
): Promise<void> {
  const { registry } = context;
  const request = parseImageRequest(body);
  const pinned = pin ?? request.provider;
  const candidates = registry.resolve(request.model, pinned, "image");
  const messages = [{ role: "user" as const, content: request.prompt }];
  const options = toImageOptions(request);
  const routes = routeByCapabilities(candidates, requestNeeds(messages, options), options, {
    unsupportedFields: registry.config.routing.unsupportedFields,
    requestedModel: request.model ?? pinned ?? "",
    pinned: pinned !== undefined,
  });
  const routeOf = new Map(routes.map((route) => [route.candidate as Candidate, route]));
  const run = registry.run(
    routes.map((route) => route.candidate),
    {
      requestedModel: request.model ?? pin ?? "",
      messages,
      options,
      optionsFor: (candidate) => routeOf.get(candidate)?.options ?? options,
      signal: context.signal,
      logger: context.logger,
      requestId: context.requestId,
      client: clientIdentity(context.request, registry.config.server.apiKeys.length > 0),
    },
  );
  const wantsBase64 = (candidate: Candidate) =>
    routeOf.get(candidate)?.options.extraBody?.response_format === "b64_json";
  try {
    const { candidate, answer } = await collectAnswer(run, (gathered, attempted) => {
      const label = attempted.entry.provider.label;
      if (gathered.images.length === 0)
        return new InvalidResponseError({
          provider: label,
          message: `${label} answered without any image`,
        });
      if (wantsBase64(attempted) && gathered.images.some((url) => base64Of(url) === undefined))
        return new InvalidResponseError({
          provider: label,
          message: `${label} answered an image URL where "response_format": "b64_json" asked for the image data`,
        });
      return undefined;
    });
    context.provider = candidate.entry.id;
    const headers: Record<string, string> = { "x-g4f-provider": candidate.entry.id };
    const dropped = droppedFieldsHeader(routeOf.get(candidate)?.dropped ?? []);
    if (dropped !== undefined) headers[droppedParamsHeader] = dropped;
    sendJson(
      context.response,
      200,
      imagesBody(
        Math.floor(Date.now() / 1000),
        candidate.entry.id,
        imageData(answer, request.n ?? undefined, wantsBase64(candidate), request.prompt),
      ),
      headers,
    );
  } finally {
    context.failedAttempts = run.failures.length;
  }
}

/** The `data` of the answer: at most `n` images, as URLs or as base64 data. */
function imageData(
  answer: GatheredAnswer,
  n: number | undefined,
  base64: boolean,
  prompt: string,
): ImageDatum[] {
  const revisedPrompt = answer.revisedPrompt ?? prompt;
  return answer.images.slice(0, n).map((url) => {
    const data = base64 ? base64Of(url) : undefined;
    return data === undefined
      ? { url, revised_prompt: revisedPrompt }
      : { b64_json: data, revised_prompt: revisedPrompt };
  });
}
