import { handleChatCompletion } from "./chat-completions.js";
import { answerConsoleFile, answerConsoleStats } from "./console/console-routes.js";
import { handleEmbeddings } from "./embeddings.js";
import { HttpError, notFoundRoute } from "./http-errors.js";
import { sendJson } from "./http-responses.js";
import { handleImageGeneration } from "./image-generations.js";
import { type JsonBodyReceiver, readJsonBodyInto } from "./request-body.js";
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
 * Where a route tells the server its answer is over: `answered` when the answer
 * ended, `failed` (with what was thrown or rejected) when it ends in an error the
 * server still has to answer. Exactly one of them is called, once.
 */
export interface RouteEnd {
  answered(): void;
  failed(error: unknown): void;
}

/** Tell `end` how `answer` settles. */
function endWhenSettled(answer: Promise<void>, end: RouteEnd): void {
  answer.then(
    () => end.answered(),
    (error: unknown) => end.failed(error),
  );
}

/** A route answered from the request's JSON body (`route` for what its path names). */
type BodyHandler = (context: RequestContext, body: unknown, route: RouteMatch) => Promise<void>;

// Functions of the module rather than a closure per request over its route.
const answerChat: BodyHandler = (context, body, route) =>
  handleChatCompletion(context, body, route.parameter);
const answerImages: BodyHandler = (context, body, route) =>
  handleImageGeneration(context, body, route.parameter);
const answerResponses: BodyHandler = (context, body) => handleCreateResponse(context, body);
const answerEmbeddings: BodyHandler = (context, body) => handleEmbeddings(context, body);

/**
 * Read a request's JSON body, then answer it with `handle`; `end` hears how it
 * went. The answer is the body's receiver (`readJsonBodyInto`): a chat request (every
 * request but a few) makes one object here rather than a closure for the body, one
 * for its refusal and one over the route, and no promise for the body, with the
 * order of events of `readJsonBody(...).then(handle)` (the handler runs once the
 * body is read; a refused body, a parse error or a handler's own throw reaches
 * `end.failed`).
 */
class BodyAnswer implements JsonBodyReceiver {
  constructor(
    readonly context: RequestContext,
    readonly end: RouteEnd,
    readonly route: RouteMatch,
    readonly handle: BodyHandler,
  ) {}

  bodyRead(body: unknown): void {
    let answer: Promise<void>;
    try {
      answer = this.handle(this.context, body, this.route);
    } catch (error) {
      this.end.failed(error);
      return;
    }
    endWhenSettled(answer, this.end);
  }

  bodyRefused(error: HttpError): void {
    this.end.failed(error);
  }
}

function answerWithBody(
  context: RequestContext,
  end: RouteEnd,
  route: RouteMatch,
  handle: BodyHandler,
): void {
  readJsonBodyInto(
    context.request,
    context.registry.config.server.bodyLimitBytes,
    new BodyAnswer(context, end, route, handle),
  );
}

/**
 * Answer a request that passed the host, method, key and content-type checks, and
 * tell `end` when the answer is over (at once for one answered at once). A refusal
 * found before anything waits throws at once into the caller's `try`.
 */
export function answerRoute(
  context: RequestContext,
  route: RouteMatch,
  path: string,
  server: ServerState,
  end: RouteEnd,
): void {
  const { registry, response } = context;
  switch (route.name) {
    case "chat":
      answerWithBody(context, end, route, answerChat);
      return;
    case "images":
      answerWithBody(context, end, route, answerImages);
      return;
    case "responses":
      answerWithBody(context, end, route, answerResponses);
      return;
    case "embeddings":
      answerWithBody(context, end, route, answerEmbeddings);
      return;
    case "response":
      if (route.method === "DELETE") handleDeleteResponse(context, route.parameter ?? "");
      else handleGetResponse(context, route.parameter ?? "");
      break;
    case "models":
      sendJson(response, 200, registry.modelsBody());
      break;
    case "model": {
      const model = registry.describeModel(route.parameter ?? "");
      if (model === undefined)
        throw new HttpError(404, `The model "${route.parameter}" does not exist`, {
          code: "model_not_found",
          param: "model",
        });
      sendJson(response, 200, JSON.stringify(model));
      break;
    }
    case "provider_models": {
      const models = registry.describeProviderModels(route.parameter ?? "");
      if (models === undefined)
        throw new HttpError(404, `No provider has the id "${route.parameter}"`, {
          code: "provider_not_found",
        });
      sendJson(response, 200, JSON.stringify({ object: "list", data: models }));
      break;
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
      break;
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
      break;
    }
    case "metrics": {
      const text = registry.renderMetrics(server.openRequests);
      response.writeHead(200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "content-length": Buffer.byteLength(text),
      });
      response.end(text);
      break;
    }
    case "console":
      endWhenSettled(answerConsoleFile(context, route.parameter ?? "", path), end);
      return;
    case "console_stats":
      answerConsoleStats(context, path);
      break;
    default:
      throw notFoundRoute(context.request.method ?? "GET", path);
  }
  end.answered();
}
