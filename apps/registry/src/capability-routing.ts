import {
  type CallFeature,
  type CallFeatureValues,
  type CapabilityNeed,
  callFeatureWireNames,
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
 * What happens to a request field no candidate of the model can honour: `reject`
 * answers 400 naming it (the default); `drop` removes it for the candidates that
 * can not honour it, and the answer names it in `x-g4f-dropped-params` (LiteLLM's
 * `drop_params`). Content parts a model can not read and tool-call history are
 * never dropped: that would change the conversation itself.
 */
export type UnsupportedFieldsPolicy = "reject" | "drop";

export interface CapabilityRoutingPolicy {
  unsupportedFields: UnsupportedFieldsPolicy;
  /** The model name the client asked for, named in the 400. */
  requestedModel: string;
  /** True when the client pinned the provider(s): the 400 then names them. */
  pinned?: boolean;
}

/** A candidate that can answer the request, and what it would have to leave out. */
export interface CapabilityRoute {
  readonly candidate: Candidate;
  /** The needs dropped for this candidate (only under `drop`); empty when it honours all. */
  readonly dropped: readonly CapabilityNeed[];
  /** The call options this candidate gets: the request's, less what it drops. */
  readonly options: ProviderOptions;
}

/**
 * What a call needs of its model, in wire names for the HTTP edge: the core's
 * `capabilityNeeds`, with the pass-through bag split into one need per field it
 * holds (`prediction`, `store`, …, each named in a refusal), and `logprobs: false`
 * left out (it asks for nothing; see `routeByCapabilities`).
 */
export function requestNeeds(messages: Messages, options: CallFeatureValues): CapabilityNeed[] {
  const needs: CapabilityNeed[] = [];
  for (const need of capabilityNeeds(messages, options)) {
    if (need.kind === "feature" && need.feature === "logprobs" && options.logprobs === false)
      continue;
    if (need.kind === "feature" && need.feature === "extraBody") {
      for (const field of Object.keys((options.extraBody ?? {}) as Record<string, unknown>))
        needs.push({ kind: "feature", feature: "extraBody", field });
      continue;
    }
    needs.push(need);
  }
  return needs;
}

// A value that asks nothing of a model: a candidate without the feature gets the
// call without it, and nothing is reported as dropped.
const idleValues: Partial<Record<CallFeature, unknown>> = { logprobs: false };
const idleEntries = Object.entries(idleValues) as [CallFeature, unknown][];

/** Needs that only `drop` can not take away: the conversation's own content. */
function droppable(need: CapabilityNeed): boolean {
  if (need.kind === "input") return false;
  return !need.field.startsWith("messages.");
}

/**
 * The candidates that can answer a request with `needs`, in their order, each with
 * the call options it gets. A candidate whose model lacks something the request
 * needs is routed past; under `unsupportedFields: "drop"` it stays, after every
 * candidate that honours all, with the unmet fields removed from its options
 * (never content parts or tool-call history). When no candidate is left, throws a
 * 400 in OpenAI's shape naming the field and why, e.g.
 * `tools: no enabled provider of "gpt-4o-mini" supports tool calls` (`param: "tools"`,
 * `code: "unsupported_parameter"`).
 *
 * @example
 * const needs = requestNeeds(messages, options);
 * const routes = routeByCapabilities(candidates, needs, options, {
 *   unsupportedFields: config.routing.unsupportedFields,
 *   requestedModel: "gpt-4o-mini",
 * });
 */
export function routeByCapabilities(
  candidates: readonly Candidate[],
  needs: readonly CapabilityNeed[],
  options: ProviderOptions,
  policy: CapabilityRoutingPolicy,
): CapabilityRoute[] {
  const honouring: CapabilityRoute[] = [];
  const dropping: CapabilityRoute[] = [];
  const refusals: { candidate: Candidate; unmet: CapabilityNeed[] }[] = [];
  for (const candidate of candidates) {
    const capabilities = capabilitiesOf(candidate.entry.provider, candidate.model);
    const unmet = unmetNeeds(capabilities, needs);
    const idle = idleFeatures(options, capabilities.features);
    if (unmet.length === 0) {
      honouring.push({ candidate, dropped: [], options: withoutFeatures(options, idle, []) });
      continue;
    }
    if (policy.unsupportedFields === "drop" && unmet.every(droppable)) {
      dropping.push({ candidate, dropped: unmet, options: withoutFeatures(options, idle, unmet) });
      continue;
    }
    refusals.push({ candidate, unmet });
  }
  // (Most requests drop nothing: the honouring list is the answer as it is.)
  const routes = dropping.length === 0 ? honouring : [...honouring, ...dropping];
  if (routes.length === 0 && candidates.length > 0) throw unsupportedError(refusals, policy);
  return routes;
}

/** The `x-g4f-dropped-params` header value of a route: the dropped fields, comma-separated. */
export function droppedFieldsHeader(dropped: readonly CapabilityNeed[]): string | undefined {
  if (dropped.length === 0) return undefined;
  return [...new Set(dropped.map((need) => need.field))].join(", ");
}

const noFeatures: readonly CallFeature[] = [];

function idleFeatures(
  options: ProviderOptions,
  features: readonly CallFeature[],
): readonly CallFeature[] {
  let idle: CallFeature[] | undefined;
  for (const [feature, value] of idleEntries) {
    if (options[feature] !== value || features.includes(feature)) continue;
    idle ??= [];
    idle.push(feature);
  }
  return idle ?? noFeatures;
}

function withoutFeatures(
  options: ProviderOptions,
  idle: readonly CallFeature[],
  dropped: readonly CapabilityNeed[],
): ProviderOptions {
  if (idle.length === 0 && dropped.length === 0) return options;
  const trimmed: ProviderOptions = { ...options };
  for (const feature of idle) delete trimmed[feature];
  for (const need of dropped) {
    if (need.kind === "responseFormat") delete trimmed.responseFormat;
    else if (need.kind === "feature" && need.feature === "extraBody") {
      const extraBody = { ...trimmed.extraBody };
      delete extraBody[need.field];
      if (Object.keys(extraBody).length === 0) delete trimmed.extraBody;
      else trimmed.extraBody = extraBody;
    } else if (need.kind === "feature") delete trimmed[need.feature];
  }
  return trimmed;
}

function providerList(candidates: readonly Candidate[]): string {
  return candidates.map((candidate) => `"${candidate.entry.id}"`).join(", ");
}

function unsupportedError(
  refusals: readonly { candidate: Candidate; unmet: CapabilityNeed[] }[],
  policy: CapabilityRoutingPolicy,
): HttpError {
  const model = policy.requestedModel;
  // The need that no candidate meets names the field; else the first one's first.
  const shared = refusals[0]?.unmet.find((need) =>
    refusals.every((refusal) => refusal.unmet.some((unmet) => sameNeed(unmet, need))),
  );
  const need = shared ?? (refusals[0]?.unmet[0] as CapabilityNeed);
  const who = policy.pinned
    ? `the provider${refusals.length === 1 ? "" : "s"} ${providerList(refusals.map((refusal) => refusal.candidate))} (pinned) ${refusals.length === 1 ? "does" : "do"} not`
    : `no enabled provider of "${model}"`;
  const verb = policy.pinned ? "support" : "supports";
  let message =
    shared === undefined
      ? `${need.field}: no enabled provider of "${model}" supports everything the request asks for (${refusals
          .map(
            (refusal) =>
              `${refusal.candidate.entry.id}: ${refusal.unmet.map(describeNeed).join(", ")}`,
          )
          .join("; ")})`
      : `${need.field}: ${who} ${verb} ${describeNeed(need)}${policy.pinned ? ` for "${model}"` : ""}`;
  if (policy.unsupportedFields === "reject" && droppable(need))
    message += `; routing.unsupportedFields: "drop" would drop ${fieldWord(need)} instead`;
  return new HttpError(400, message, { code: "unsupported_parameter", param: need.field });
}

function fieldWord(need: CapabilityNeed): string {
  if (need.kind === "feature" && need.feature !== "extraBody")
    return `\`${callFeatureWireNames[need.feature]}\``;
  return `\`${need.field}\``;
}

function sameNeed(left: CapabilityNeed, right: CapabilityNeed): boolean {
  return left.kind === right.kind && left.field === right.field;
}
