import { STATUS_CODES } from "node:http";
import { HttpError } from "./http-errors.js";

/** Status, message and code of the answer to a request node could not parse, by error code. */
const clientErrorAnswers: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, "The request headers are too large", "headers_too_large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "The request did not arrive in time", "request_timeout"],
  HPE_INVALID_EOF_STATE: [
    400,
    "The connection ended before the request was complete",
    "incomplete_body",
  ],
};

/**
 * The whole raw HTTP answer (status line, headers, OpenAI-shaped body; the
 * connection closes) to a request Node could not parse, by its error code.
 */
export function clientErrorAnswer(code: string | undefined): string {
  const [status, message, errorCode] = clientErrorAnswers[code ?? ""] ?? [
    400,
    `The request is not valid HTTP (${code ?? "parse error"})`,
    "malformed_request",
  ];
  const body = new HttpError(status, message, { code: errorCode }).toBody();
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
