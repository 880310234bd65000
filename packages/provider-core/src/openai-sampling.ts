/** The sampling options of a call, in TypeScript casing (null counts as unset). */
export interface SamplingOptions {
  temperature?: number | null | undefined;
  topP?: number | null | undefined;
  maxTokens?: number | null | undefined;
  frequencyPenalty?: number | null | undefined;
  presencePenalty?: number | null | undefined;
}

/** The sampling fields of an OpenAI-shaped request body, under their wire names. */
export interface OpenAISamplingFields {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
}

/**
 * The sampling options a call set, under OpenAI's wire names; unset ones are left
 * out, so that the upstream's own defaults apply. Every option a provider accepts
 * goes on the wire: none is dropped on the way.
 *
 * @example
 * const body = { model, messages, stream: false, ...openAISamplingFields(call.options) };
 */
export function openAISamplingFields(options: SamplingOptions): OpenAISamplingFields {
  const fields: OpenAISamplingFields = {};
  if (options.temperature != null) fields.temperature = options.temperature;
  if (options.topP != null) fields.top_p = options.topP;
  if (options.maxTokens != null) fields.max_tokens = options.maxTokens;
  if (options.frequencyPenalty != null) fields.frequency_penalty = options.frequencyPenalty;
  if (options.presencePenalty != null) fields.presence_penalty = options.presencePenalty;
  return fields;
}
