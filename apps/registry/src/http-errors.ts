/** One failed attempt of a request, as an all-failed error lists it. */
export interface AttemptReport {
  provider: string;
  model: string;
  /** The upstream's HTTP status, when there was one. */
  status: number | null;
  /** Why the attempt failed: `status`, `rate_limit`, `timeout`, `connection`, `empty`, `cooldown`, … */
  reason: string;
  message: string;
}

export interface HttpErrorDetails {
  /** OpenAI's error `type`; default from the status. */
  type?: string;
  code?: string | null;
  /** The request field at fault (`messages.0.role`), as OpenAI's `param`. */
  param?: string | null;
  headers?: Record<string, string>;
  attempts?: AttemptReport[];
}

const typeByStatus: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "invalid_request_error",
  405: "invalid_request_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  429: "rate_limit_error",
  502: "upstream_error",
  503: "service_unavailable",
};

/**
 * An error answer in OpenAI's shape (`{"error": {message, type, param, code}}`)
 * with its HTTP status, so that client SDKs raise their matching error class.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  readonly attempts: AttemptReport[] | undefined;

  constructor(
    readonly status: number,
    message: string,
    details: HttpErrorDetails = {},
  ) {
    super(message);
    this.type =
      details.type ??
      typeByStatus[status] ??
      (status >= 500 ? "api_error" : "invalid_request_error");
    this.code = details.code ?? null;
    this.param = details.param ?? null;
    this.headers = details.headers ?? {};
    this.attempts = details.attempts;
  }

  /** The `error` object of the body (also what an SSE error event carries). */
  toErrorObject(): Record<string, unknown> {
    const error: Record<string, unknown> = {
      message: this.message,
      type: this.type,
      param: this.param,
      code: this.code,
    };
    if (this.attempts !== undefined) error.attempts = this.attempts;
    return error;
  }

  toBody(): string {
    return JSON.stringify({ error: this.toErrorObject() });
  }
}

/** At most this many characters of a request's path go into a log line or an error message. */
export const pathShownCharacters = 256;

/** A path as logs and messages show it: a bounded prefix, and how long it was when cut. */
export function shownPath(path: string): string {
  return path.length <= pathShownCharacters
    ? path
    : `${path.slice(0, pathShownCharacters)}…(${path.length} characters)`;
}

/** The endpoints this server answers, named in the 404 of any other path. */
export const servedEndpoints = [
  "POST /v1/chat/completions",
  "POST /v1/responses",
  "GET /v1/responses/{id}",
  "DELETE /v1/responses/{id}",
  "POST /v1/embeddings",
  "POST /v1/images/generations",
  "GET /v1/models",
  "GET /v1/models/{model}",
  "GET /v1/providers",
  "POST /api/{provider}/chat/completions",
  "POST /api/{provider}/images/generations",
  "GET /api/{provider}/models",
  "GET /healthz",
  "GET /metrics",
  "GET / (the console)",
  "GET /v1/console/stats",
] as const;

export function notFoundRoute(method: string, path: string): HttpError {
  return new HttpError(
    404,
    `Unknown route: ${method} ${shownPath(path)}. This server answers ${servedEndpoints.join(", ")}`,
    { code: "not_found" },
  );
}

export function methodNotAllowed(method: string, path: string, allowed: string): HttpError {
  return new HttpError(
    405,
    `Method ${method} is not allowed on ${shownPath(path)}; use ${allowed}`,
    {
      code: "method_not_allowed",
      headers: { allow: allowed },
    },
  );
}

export function unauthorized(presented: boolean): HttpError {
  return new HttpError(
    401,
    presented
      ? "Incorrect API key provided"
      : "Missing API key: send it as `Authorization: Bearer <key>` or in the `g4f-api-key` header",
    { code: "invalid_api_key" },
  );
}

export function bodyTooLarge(limitBytes: number): HttpError {
  return new HttpError(413, `The request body is larger than the limit of ${limitBytes} bytes`, {
    code: "request_too_large",
  });
}

export function invalidJson(detail: string): HttpError {
  return new HttpError(400, `The request body is not valid JSON: ${detail}`, {
    code: "invalid_json",
  });
}

/** A request field that is wrong: 400 naming it in `param`. */
export function invalidField(param: string, message: string): HttpError {
  return new HttpError(400, message, { code: "invalid_value", param });
}

/** A `Host` header the server does not answer to: the mark of a DNS rebinding page. */
export function hostNotAllowed(host: string): HttpError {
  return new HttpError(
    403,
    `The host "${host.slice(0, 100)}" is not one this server answers to; add it to server.allowedHosts if it should be`,
    { code: "host_not_allowed" },
  );
}

export function unsupportedMediaType(contentType: string | undefined): HttpError {
  return new HttpError(
    415,
    contentType === undefined
      ? "The request body needs `Content-Type: application/json`"
      : `The request body must be UTF-8 JSON (\`Content-Type: application/json\`), not "${contentType.slice(0, 100)}"`,
    { code: "unsupported_media_type" },
  );
}

export function originNotAllowed(origin: string): HttpError {
  return new HttpError(
    403,
    `The origin "${origin.slice(0, 100)}" may not call this server from a browser; add it to server.corsOrigins if it should`,
    { code: "origin_not_allowed" },
  );
}

export function tooManyMessages(limit: number): HttpError {
  return new HttpError(
    400,
    `The request has more than ${limit} messages, the limit of server.maxMessages`,
    { code: "too_many_messages", param: "messages" },
  );
}

export function tooManyContentParts(limit: number): HttpError {
  return new HttpError(
    400,
    `The request's messages have more than ${limit} content parts in all, the limit of server.maxContentParts`,
    { code: "too_many_content_parts", param: "messages" },
  );
}

export function shuttingDown(): HttpError {
  return new HttpError(503, "The server is shutting down", {
    code: "server_shutting_down",
    headers: { connection: "close" },
  });
}
