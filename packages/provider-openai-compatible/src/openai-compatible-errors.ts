import { ModelNotSupportedError, ResponseStatusError } from "@g4f-ts/provider-core";

// "model 'x' not found, try pulling it first" (Ollama), "The model `x` does not exist"
// (OpenAI, vLLM), code `model_not_found`.
const missingModelDialects =
  /model_not_found|try pulling it|\bmodel\b[^.]{0,200}?\b(?:not found|does not exist|not exist|is not available|unknown)/i;

export interface UpstreamErrorContext {
  /** The model id the request named. */
  model: string;
  /** The URL the request went to, named in the hint of a 404 that is not about a model. */
  endpoint: string;
}

/**
 * A failure of an OpenAI-compatible upstream, with what the core left as a plain
 * `ResponseStatusError` made precise (the core already knows the context-length
 * wordings of the common servers): a 404 about the model becomes
 * `ModelNotSupportedError`; any other 404 gets a hint about the base URL (a missing
 * `/v1` is the usual cause). Anything else passes through unchanged.
 */
export function refineUpstreamError(error: unknown, context: UpstreamErrorContext): unknown {
  if (!ResponseStatusError.isInstance(error) || error.name !== "ResponseStatusError") return error;
  const status = error.status;
  // The upstream's own words only: the message also holds our label, which may say "model".
  const words = error.body ?? error.message;
  const options = {
    provider: error.provider,
    status,
    body: error.body,
    retryAfter: error.retryAfter,
    cause: error,
  };
  if (status === 404 && missingModelDialects.test(words)) {
    return new ModelNotSupportedError({
      ...options,
      model: context.model,
      message: `Model "${context.model}" is not served by ${error.provider}: ${error.message}`,
    });
  }
  if (status === 404) {
    return new ResponseStatusError({
      ...options,
      retryable: error.retryable,
      message: `${error.message} (no such endpoint: ${context.endpoint}; the base URL must include the API version, as in http://127.0.0.1:11434/v1, and not every server offers every endpoint)`,
    });
  }
  return error;
}
