import { STATUS_CODES } from "node:http";
import type { FakeAnswer } from "./answer-delivery.js";
import { chatCompletionRoute } from "./chat-completion.js";
import type { FakeServer, FakeServerOptions } from "./fake-server.js";
import { startFakeServer } from "./fake-server.js";
import { fakeImageUrls } from "./image-urls.js";
import { jsonObjectBody } from "./request-body.js";

export interface AmigoChatFakeOptions extends FakeServerOptions {
  /** Append a usage chunk to streamed answers. Default false. */
  readonly usage?: boolean;
  /** Where streamed choices carry their text. Default "delta". */
  readonly textField?: "delta" | "text";
  /** How many image URLs an image generation returns. Default 2. */
  readonly imageCount?: number;
}

/** A local AmigoChat API: chat completions (SSE or JSON) and image generations, with faults. */
export type AmigoChatFake = FakeServer;

/** AmigoChat's own error shape, e.g. `{"message":"Forbidden","statusCode":403}`. */
function amigoChatError(status: number, message: string): object {
  return { message, statusCode: status };
}

function badRequest(message: string): FakeAnswer {
  return { type: "json", status: 400, body: amigoChatError(400, message) };
}

/**
 * Starts a fake of the AmigoChat API on 127.0.0.1 (`POST /v1/chat/completions`,
 * `POST /v1/images/generations`), so the provider can be tested without the real service.
 * Every request to those endpoints is recorded and may be given a fault.
 *
 * @example
 * const fake = await startAmigoChatFake({ faults: [{ kind: "status", status: 503 }] });
 * // point the provider's base URL at `fake.url` (the fake serves /v1/...), then:
 * expect(fake.requests[1]?.json).toMatchObject({ model: "gpt-4o-mini", personaId: "amigo" });
 * await fake.close();
 */
export function startAmigoChatFake(options: AmigoChatFakeOptions = {}): Promise<AmigoChatFake> {
  return startFakeServer(
    {
      errorBody: amigoChatError,
      routeMissMessage: (status) => STATUS_CODES[status] ?? "Error",
      routes: [
        chatCompletionRoute({
          invalidBody: badRequest("body must be a JSON object with a string model"),
          streamUsage: () => options.usage ?? false,
          textField: options.textField ?? "delta",
        }),
        {
          method: "POST",
          path: "/v1/images/generations",
          answer: (request) => {
            const body = jsonObjectBody(request);
            if (body === undefined || typeof body.model !== "string") {
              return badRequest("body must be a JSON object with a string model");
            }
            return {
              type: "json",
              status: 200,
              body: { data: fakeImageUrls(body.model, options.imageCount ?? 2) },
              emptyBody: { data: [] },
            };
          },
        },
      ],
    },
    options,
  );
}
