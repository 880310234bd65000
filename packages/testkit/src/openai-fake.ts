import type { FakeAnswer } from "./answer-delivery.js";
import { chatCompletionRoute, FAKE_CREATED } from "./chat-completion.js";
import type { FakeServer, FakeServerOptions } from "./fake-server.js";
import { startFakeServer } from "./fake-server.js";
import { fakeImageUrls } from "./image-urls.js";
import { jsonObjectBody } from "./request-body.js";

export interface OpenAICompatibleFakeOptions extends FakeServerOptions {
  /** The ids `GET /v1/models` lists. Default `["fake-model"]`. */
  readonly models?: readonly string[];
  /** The `owned_by` of every listed model. Default "testkit". */
  readonly ownedBy?: string;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  readonly apiKey?: string;
  /** How many image URLs an image generation returns when the request has no `n`. Default 2. */
  readonly imageCount?: number;
}

/** A local OpenAI-compatible API: chat completions, image generations and models, with faults. */
export type OpenAICompatibleFake = FakeServer;

// OpenAI's error `type` and `code` for the statuses a fake answers with; others are server errors.
const ERROR_KINDS: Record<number, { type: string; code: string | null }> = {
  400: { type: "invalid_request_error", code: null },
  401: { type: "invalid_request_error", code: "invalid_api_key" },
  403: { type: "invalid_request_error", code: "unsupported_country_region_territory" },
  404: { type: "invalid_request_error", code: null },
  405: { type: "invalid_request_error", code: null },
  429: { type: "requests", code: "rate_limit_exceeded" },
};

/** OpenAI's error shape: `{"error":{"message","type","param","code"}}`. */
function openAIError(status: number, message: string, code?: string): object {
  const kind = ERROR_KINDS[status] ?? { type: "server_error", code: null };
  return { error: { message, type: kind.type, param: null, code: code ?? kind.code } };
}

function badRequest(message: string): FakeAnswer {
  return { type: "json", status: 400, body: openAIError(400, message) };
}

function hasStreamUsage(body: Record<string, unknown>): boolean {
  const streamOptions = body.stream_options;
  return (
    typeof streamOptions === "object" &&
    streamOptions !== null &&
    "include_usage" in streamOptions &&
    streamOptions.include_usage === true
  );
}

/**
 * Starts a fake OpenAI-compatible API on 127.0.0.1: `POST /v1/chat/completions` (SSE with
 * `stream_options.include_usage` honoured, or JSON), `POST /v1/images/generations` and
 * `GET /v1/models`. Faults and replies work as in the AmigoChat fake.
 *
 * @example
 * const fake = await startOpenAICompatibleFake({ apiKey: "sk-test", models: ["small", "large"] });
 * const response = await fetch(`${fake.url}/v1/models`, {
 *   headers: { authorization: "Bearer sk-test" },
 * });
 * await fake.close();
 */
export function startOpenAICompatibleFake(
  options: OpenAICompatibleFakeOptions = {},
): Promise<OpenAICompatibleFake> {
  const models = options.models ?? ["fake-model"];
  return startFakeServer(
    {
      errorBody: openAIError,
      routeMissMessage: (status, request) =>
        status === 404
          ? `Invalid URL (${request.method} ${request.path})`
          : `Invalid method for URL (${request.method} ${request.path})`,
      guard: (request) => {
        if (options.apiKey === undefined) return undefined;
        if (request.headers.authorization === `Bearer ${options.apiKey}`) return undefined;
        return {
          type: "json",
          status: 401,
          body: openAIError(401, "Incorrect API key provided", "invalid_api_key"),
        };
      },
      routes: [
        chatCompletionRoute({
          invalidBody: badRequest("you must provide a model parameter"),
          streamUsage: hasStreamUsage,
          textField: "delta",
        }),
        {
          method: "POST",
          path: "/v1/images/generations",
          answer: (request) => {
            const body = jsonObjectBody(request);
            if (body === undefined) return badRequest("the body must be a JSON object");
            const model = typeof body.model === "string" ? body.model : "dall-e-2";
            const count =
              typeof body.n === "number" && Number.isInteger(body.n) && body.n > 0
                ? body.n
                : (options.imageCount ?? 2);
            return {
              type: "json",
              status: 200,
              body: { created: FAKE_CREATED, data: fakeImageUrls(model, count) },
              emptyBody: { created: FAKE_CREATED, data: [] },
            };
          },
        },
        {
          method: "GET",
          path: "/v1/models",
          answer: () => ({
            type: "json",
            status: 200,
            body: {
              object: "list",
              data: models.map((id) => ({
                id,
                object: "model",
                created: FAKE_CREATED,
                owned_by: options.ownedBy ?? "testkit",
              })),
            },
            emptyBody: { object: "list", data: [] },
          }),
        },
      ],
    },
    options,
  );
}
