/*
 * Prometheus text exposition written by hand: a few counters and histograms do not
 * need a client library, and keeping them in plain maps keeps the hot path cheap.
 */

const durationBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
] as const;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  const parts: string[] = [];
  for (const [index, name] of names.entries())
    parts.push(`${name}="${escapeLabel(values[index] ?? "")}"`);
  if (extra !== "") parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/**
 * The series of one metric by their label values, one map per label: an update
 * looks its series up without building a key string (a join per update, then the
 * hash of a new string, on every request and attempt). Iterates in the order the
 * series were first seen.
 */
class SeriesTable<Series> {
  readonly #root = new Map<string, unknown>();
  readonly #all: Series[] = [];

  find(labels: readonly string[]): Series | undefined {
    let table = this.#root;
    const last = labels.length - 1;
    for (let index = 0; index < last; index++) {
      const next = table.get(labels[index] ?? "") as Map<string, unknown> | undefined;
      if (next === undefined) return undefined;
      table = next;
    }
    return table.get(last < 0 ? "" : (labels[last] ?? "")) as Series | undefined;
  }

  add(labels: readonly string[], series: Series): void {
    let table = this.#root;
    const last = labels.length - 1;
    for (let index = 0; index < last; index++) {
      const label = labels[index] ?? "";
      let next = table.get(label) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        table.set(label, next);
      }
      table = next;
    }
    table.set(last < 0 ? "" : (labels[last] ?? ""), series);
    this.#all.push(series);
  }

  /**
   * `find([first])` or `find([first, second])` (`second` given) without the array
   * an update would make for it: every metric here has one or two labels.
   */
  findByLabels(first: string, second: string | undefined): Series | undefined {
    const level = this.#root.get(first);
    if (second === undefined) return level as Series | undefined;
    return (level as Map<string, unknown> | undefined)?.get(second) as Series | undefined;
  }

  values(): readonly Series[] {
    return this.#all;
  }
}

class Counter {
  readonly #series = new SeriesTable<{ labels: string[]; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  inc(labels: string[], by = 1): void {
    const series = this.#series.find(labels);
    if (series === undefined) this.#series.add(labels, { labels, value: by });
    else series.value += by;
  }

  /**
   * `inc([first])` or `inc([first, second])`, for a metric of that many labels: the
   * array is only made for a series seen for the first time.
   */
  incLabels(first: string, second?: string): void {
    const series = this.#series.findByLabels(first, second);
    if (series === undefined) this.inc(second === undefined ? [first] : [first, second]);
    else series.value++;
  }

  value(labels: string[]): number {
    return this.#series.find(labels)?.value ?? 0;
  }

  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    for (const series of this.#series.values())
      lines.push(`${this.name}${labelText(this.labelNames, series.labels)} ${series.value}`);
  }
}

interface HistogramSeries {
  labels: string[];
  /** Observations per bucket (not cumulative; summed when rendered). */
  counts: number[];
  sum: number;
  count: number;
}

class Histogram {
  readonly #series = new SeriesTable<HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[] = durationBuckets,
  ) {}

  observe(labels: string[], value: number): void {
    let series = this.#series.find(labels);
    if (series === undefined) {
      series = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.#series.add(labels, series);
    }
    this.#record(series, value);
  }

  /**
   * `observe([first], value)` or `observe([first, second], value)`, for a metric of
   * that many labels: the array is only made for a series seen for the first time.
   */
  observeLabels(value: number, first: string, second?: string): void {
    const series = this.#series.findByLabels(first, second);
    if (series === undefined) this.observe(second === undefined ? [first] : [first, second], value);
    else this.#record(series, value);
  }

  #record(series: HistogramSeries, value: number): void {
    series.sum += value;
    series.count++;
    for (let index = 0; index < this.buckets.length; index++) {
      if (value <= (this.buckets[index] as number)) {
        series.counts[index] = (series.counts[index] ?? 0) + 1;
        return;
      }
    }
  }

  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (const [index, bound] of this.buckets.entries()) {
        cumulative += series.counts[index] ?? 0;
        lines.push(
          `${this.name}_bucket${labelText(this.labelNames, series.labels, `le="${bound}"`)} ${cumulative}`,
        );
      }
      lines.push(
        `${this.name}_bucket${labelText(this.labelNames, series.labels, 'le="+Inf"')} ${series.count}`,
        `${this.name}_sum${labelText(this.labelNames, series.labels)} ${series.sum}`,
        `${this.name}_count${labelText(this.labelNames, series.labels)} ${series.count}`,
      );
    }
  }
}

/** The state of one model of a provider at scrape time. */
export interface ModelGauge {
  model: string;
  coolingDown: boolean;
  consecutiveFailures: number;
}

/** The state of one provider at scrape time: cooling down while any of its models is. */
export interface ProviderGauge {
  id: string;
  enabled: boolean;
  coolingDown: boolean;
  /** The most of any of its models. */
  consecutiveFailures: number;
  /** Each model of the provider that was used. */
  models?: readonly ModelGauge[];
}

/** What attempts end as: a complete answer, a failure, or stopped because the client left. */
export type AttemptOutcome = "success" | "failure" | "cancelled";

/** The registry's metrics: requests, attempts, fallbacks, failures by provider and reason, latencies. */
export class RegistryMetrics {
  readonly requests = new Counter("g4f_requests_total", "HTTP requests by route and status.", [
    "route",
    "status",
  ]);
  readonly requestDuration = new Histogram(
    "g4f_request_duration_seconds",
    "HTTP request latency by route, until the answer ended.",
    ["route"],
  );
  readonly attempts = new Counter(
    "g4f_attempts_total",
    "Provider attempts by provider and outcome.",
    ["provider", "outcome"],
  );
  readonly attemptDuration = new Histogram(
    "g4f_attempt_duration_seconds",
    "Provider attempt latency by provider and outcome.",
    ["provider", "outcome"],
  );
  readonly firstContent = new Histogram(
    "g4f_time_to_first_content_seconds",
    "Time from the start of an attempt to its first content chunk, by provider.",
    ["provider"],
  );
  readonly fallbacks = new Counter(
    "g4f_fallbacks_total",
    "Moves to the next candidate, by the provider that was left.",
    ["provider"],
  );
  readonly failures = new Counter(
    "g4f_provider_failures_total",
    "Failed attempts and cooldown skips by provider and reason.",
    ["provider", "reason"],
  );

  /** The exposition text; the gauges are read at scrape time. */
  render(providers: readonly ProviderGauge[], openRequests: number): string {
    const lines: string[] = [];
    this.requests.render(lines);
    this.requestDuration.render(lines);
    this.attempts.render(lines);
    this.attemptDuration.render(lines);
    this.firstContent.render(lines);
    this.fallbacks.render(lines);
    this.failures.render(lines);
    const gauge = (
      name: string,
      help: string,
      value: (provider: ProviderGauge) => number,
    ): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const provider of providers)
        lines.push(`${name}{provider="${escapeLabel(provider.id)}"} ${value(provider)}`);
    };
    gauge("g4f_provider_enabled", "1 when the provider is routed to.", (provider) =>
      provider.enabled ? 1 : 0,
    );
    gauge(
      "g4f_provider_cooldown",
      "1 while any model of the provider is in cooldown.",
      (provider) => (provider.coolingDown ? 1 : 0),
    );
    gauge(
      "g4f_provider_consecutive_failures",
      "Failures since the last success, the most of any model of the provider.",
      (provider) => provider.consecutiveFailures,
    );
    const modelGauge = (name: string, help: string, value: (model: ModelGauge) => number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const provider of providers)
        for (const model of provider.models ?? [])
          lines.push(
            `${name}{provider="${escapeLabel(provider.id)}",model="${escapeLabel(model.model)}"} ${value(model)}`,
          );
    };
    modelGauge("g4f_model_cooldown", "1 while the provider's model is in cooldown.", (model) =>
      model.coolingDown ? 1 : 0,
    );
    modelGauge(
      "g4f_model_consecutive_failures",
      "Failures of the provider's model since its last success.",
      (model) => model.consecutiveFailures,
    );
    lines.push(
      "# HELP g4f_open_requests Requests being answered right now.",
      "# TYPE g4f_open_requests gauge",
      `g4f_open_requests ${openRequests}`,
    );
    return `${lines.join("\n")}\n`;
  }
}
