/** The routes the registry serves, as named in metrics and the access log. */
export type RouteName =
  | "chat"
  | "images"
  | "responses"
  | "response"
  | "embeddings"
  | "models"
  | "model"
  | "provider_models"
  | "providers"
  | "healthz"
  | "metrics"
  | "console"
  | "console_stats"
  | "unknown";

/** What a path resolved to: the route, its method, and the provider or model named in the path. */
export interface RouteMatch {
  name: RouteName;
  method: "GET" | "POST" | "DELETE";
  /** Behind the API keys, when keys are configured. */
  protected: boolean;
  /** The provider id of `/api/<id>/…`, the model of `/v1/models/<model>`, or the console file. */
  parameter: string | undefined;
}

const staticRoutes = new Map<string, RouteMatch>();
function staticRoute(paths: string[], name: RouteName, method: "GET" | "POST", guarded: boolean) {
  for (const path of paths)
    staticRoutes.set(path, { name, method, protected: guarded, parameter: undefined });
}
staticRoute(["/v1/chat/completions", "/chat/completions"], "chat", "POST", true);
staticRoute(["/v1/images/generations", "/images/generations"], "images", "POST", true);
staticRoute(["/v1/responses", "/responses"], "responses", "POST", true);
staticRoute(["/v1/embeddings", "/embeddings"], "embeddings", "POST", true);
staticRoute(["/v1/models", "/models"], "models", "GET", true);
staticRoute(["/v1/providers", "/providers"], "providers", "GET", true);
staticRoute(["/healthz", "/health"], "healthz", "GET", false);
staticRoute(["/metrics"], "metrics", "GET", false);
// The console's files hold no data; its stats are behind the keys like the API.
staticRoute(["/v1/console/stats"], "console_stats", "GET", true);
for (const path of ["/", "/console", "/console/"])
  staticRoutes.set(path, { name: "console", method: "GET", protected: false, parameter: "" });

// g4f's per-provider paths: /api/<provider>/chat/completions (with or without v1/).
const providerPathPattern =
  /^\/api\/([^/]+)\/(?:v1\/)?(chat\/completions|images\/generations|models)$/;
const providerPathRoutes: Record<string, { name: RouteName; method: "GET" | "POST" }> = {
  "chat/completions": { name: "chat", method: "POST" },
  "images/generations": { name: "images", method: "POST" },
  models: { name: "provider_models", method: "GET" },
};

/** The route a path names, or undefined when it names none (`method` tells GET and DELETE of a stored response apart). */
export function matchRoute(path: string, method?: string): RouteMatch | undefined {
  const fixed = staticRoutes.get(path);
  if (fixed !== undefined) return fixed;
  const responseId = storedResponseId(path);
  if (responseId !== undefined)
    return {
      name: "response",
      method: method === "DELETE" ? "DELETE" : "GET",
      protected: true,
      parameter: responseId,
    };
  if (path.startsWith("/api/")) {
    const match = providerPathPattern.exec(path);
    const route = match === null ? undefined : providerPathRoutes[match[2] as string];
    if (match === null || route === undefined) return undefined;
    return { ...route, protected: true, parameter: safeDecode(match[1] as string) };
  }
  if (path.startsWith("/console/"))
    return { name: "console", method: "GET", protected: false, parameter: path.slice(9) };
  for (const prefix of ["/v1/models/", "/models/"]) {
    if (path.startsWith(prefix) && path.length > prefix.length)
      return {
        name: "model",
        method: "GET",
        protected: true,
        parameter: safeDecode(path.slice(prefix.length)),
      };
  }
  return undefined;
}

// `/v1/responses/{id}`: an id is one path segment.
function storedResponseId(path: string): string | undefined {
  for (const prefix of ["/v1/responses/", "/responses/"]) {
    if (!path.startsWith(prefix) || path.length === prefix.length) continue;
    const id = path.slice(prefix.length);
    return id.includes("/") ? undefined : safeDecode(id);
  }
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
