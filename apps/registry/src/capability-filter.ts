import {
  type CapabilityNeed,
  capabilitiesOf,
  capabilityNeeds,
  describeNeed,
  type Messages,
  type ProviderOptions,
  unmetNeeds,
} from "@g4f-ts/provider-core";
import { HttpError } from "./http-errors.js";
import type { Candidate } from "./model-router.js";

/**
 * The candidates whose model honours everything a call needs (tools, a JSON
 * schema, image input, …), in their order; when none does, a 400 naming the first
 * field no candidate honours, in the request's own words (`fieldName` maps a chat
 * wire name such as `response_format` to the endpoint's, `text.format`).
 *
 * The Responses endpoint's call site of capability routing: registry12's
 * `routeByCapabilities` (issue 12, `routing.unsupportedFields`) replaces this
 * function once it is on main.
 */
export function filterByCapabilities(
  candidates: readonly Candidate[],
  messages: Messages,
  options: ProviderOptions,
  fieldName: (field: string) => string = (field) => field,
): readonly Candidate[] {
  const needs = capabilityNeeds(messages, options);
  if (needs.length === 0) return candidates;
  const able = candidates.filter(
    (candidate) =>
      unmetNeeds(capabilitiesOf(candidate.entry.provider, candidate.model), needs).length === 0,
  );
  if (able.length > 0) return able;
  const first = candidates[0];
  const [unmet] =
    first === undefined
      ? needs
      : (unmetNeeds(capabilitiesOf(first.entry.provider, first.model), needs) as CapabilityNeed[]);
  const need = unmet ?? (needs[0] as CapabilityNeed);
  const field = fieldName(need.field);
  const providers = [...new Set(candidates.map((candidate) => candidate.entry.id))].join(", ");
  throw new HttpError(
    400,
    `\`${field}\`: no enabled provider of this model supports ${describeNeed(need)} (tried ${providers})`,
    { code: "unsupported_parameter", param: field },
  );
}
