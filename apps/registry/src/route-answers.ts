import { handleChatCompletion } from "./chat-completions.js";
import { answerConsoleFile, answerConsoleStats } from "./console/console-routes.js";
import { handleEmbeddings } from "./embeddings.js";
import { HttpError, notFoundRoute } from "./http-errors.js";
import { sendJson } from "./http-responses.js";
import { handleImageGeneration } from "./image-generations.js";
import { readJsonBody } from "./request-body.js";
import type { RequestContext } from "./request-context.js";
import { handleCreateResponse, handleDeleteResponse, handleGetResponse } from "./responses.js";
import type { RouteMatch } from "./routes.js";
import { sharedStateField } from "./state-status.js";

/** What the routes need to know of the server itself. */
export interface ServerState {
  readonly shuttingDown: boolean;
  readonly openRequests: number;
}

/**
 * Answer a request that passed the host, method, key and content-type checks: the
 * promise of an answer that waits for something (its body, a provider), nothing for
 * one answered at once. Not an async function: a refusal throws at once into the
 * caller's `try`, as it would reject there, and a chat request (every request but
 * a few) is not one more promise and frame deep.
 */
export function answerRoute(
  context: RequestContext,
  route: RouteMatch,
  path: string,
  server: ServerState,
): Promise<void> | undefined {
  const { registry, response } = context;
  switch (route.name) {
    case "chat":
      return readJsonBody(context.request, registry.config.server.bodyLimitBytes).then((body) =>
        handleChatCompletion(context, body, route.parameter),
      );
    case "images":
      return readJsonBody(context.request, registry.config.server.bodyLimitBytes).then((body) =>
        handleImageGeneration(context, body, route.parameter),
      );
    case "responses":
      return readJsonBody(context.request, registry.config.server.bodyLimitBytes).then((body) =>
        handleCreateResponse(context, body),
      );
    case "embeddings":
      return readJsonBody(context.request, registry.config.server.bodyLimitBytes).then((body) =>
        handleEmbeddings(context, body),
      );
    case "response":
      if (route.method === "DELETE") handleDeleteResponse(context, route.parameter ?? "");
      else handleGetResponse(context, route.parameter ?? "");
      return;
    case "models":
      sendJson(response, 200, registry.modelsBody());
      return;
    case "model": {
      const model = registry.describeModel(route.parameter ?? "");
      if (model === undefined)
        throw new HttpError(404, `The model "${route.parameter}" does not exist`, {
          code: "model_not_found",
          param: "model",
        });
      sendJson(response, 200, JSON.stringify(model));
      return;
    }
    case "provider_models": {
      const models = registry.describeProviderModels(route.parameter ?? "");
      if (models === undefined)
        throw new HttpError(404, `No provider has the id "${route.parameter}"`, {
          code: "provider_not_found",
        });
      sendJson(response, 200, JSON.stringify({ object: "list", data: models }));
      return;
    }
    case "providers":
      sendJson(
        response,
        200,
        JSON.stringify({
          object: "list",
          data: registry.describeProviders(),
          skipped: registry.problems,
          routing: registry.state.describeRouting(),
          ...sharedStateField(registry),
        }),
      );
      return;
    case "healthz": {
      const { providers, enabled } = registry.providerCounts();
      sendJson(
        response,
        server.shuttingDown ? 503 : 200,
        JSON.stringify({
          status: server.shuttingDown ? "shutting_down" : "ok",
          providers,
          enabled,
          ...sharedStateField(registry),
        }),
      );
      return;
    }
    case "metrics": {
      const text = registry.renderMetrics(server.openRequests);
      response.writeHead(200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "content-length": Buffer.byteLength(text),
      });
      response.end(text);
      return;
    }
    case "console":
      return answerConsoleFile(context, route.parameter ?? "", path);
    case "console_stats":
      answerConsoleStats(context, path);
      return;
    default:
      throw notFoundRoute(context.request.method ?? "GET", path);
  }
}
