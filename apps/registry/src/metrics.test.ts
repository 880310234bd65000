import { describe, expect, it } from "vitest";
import { RegistryMetrics } from "./metrics.js";

function seriesLines(text: string, name: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(`${name}{`));
}

describe("RegistryMetrics", () => {
  it("counts each combination of label values apart, also values that contain a separator character", () => {
    const metrics = new RegistryMetrics();
    metrics.failures.inc(["a\u0001b", "c"]);
    metrics.failures.inc(["a", "b\u0001c"]);
    metrics.failures.inc(["a", "b\u0001c"]);
    expect(metrics.failures.value(["a\u0001b", "c"])).toBe(1);
    expect(metrics.failures.value(["a", "b\u0001c"])).toBe(2);
    expect(metrics.failures.value(["a", "b"])).toBe(0);
  });

  it("renders the series in the order they were first seen, with their counts and histogram buckets", () => {
    const metrics = new RegistryMetrics();
    metrics.requests.inc(["chat", "200"]);
    metrics.requests.inc(["models", "200"]);
    metrics.requests.inc(["chat", "502"]);
    metrics.requests.inc(["chat", "200"]);
    metrics.requestDuration.observe(["chat"], 0.02);
    metrics.requestDuration.observe(["chat"], 0.2);
    metrics.requestDuration.observe(["models"], 400);
    const text = metrics.render([], 0);
    expect(seriesLines(text, "g4f_requests_total")).toEqual([
      'g4f_requests_total{route="chat",status="200"} 2',
      'g4f_requests_total{route="models",status="200"} 1',
      'g4f_requests_total{route="chat",status="502"} 1',
    ]);
    const chat = seriesLines(text, "g4f_request_duration_seconds_bucket").filter((line) =>
      line.includes('route="chat"'),
    );
    expect(chat).toContain('g4f_request_duration_seconds_bucket{route="chat",le="0.01"} 0');
    expect(chat).toContain('g4f_request_duration_seconds_bucket{route="chat",le="0.025"} 1');
    expect(chat).toContain('g4f_request_duration_seconds_bucket{route="chat",le="0.25"} 2');
    expect(chat.at(-1)).toBe('g4f_request_duration_seconds_bucket{route="chat",le="+Inf"} 2');
    expect(text).toContain('g4f_request_duration_seconds_count{route="models"} 1');
    expect(text).toContain('g4f_request_duration_seconds_bucket{route="models",le="300"} 0');
  });

  it("counts and observes the same series by label values given one by one as by a list of them", () => {
    const metrics = new RegistryMetrics();
    metrics.requests.incLabels("chat", "200");
    metrics.requests.inc(["chat", "200"]);
    metrics.requests.incLabels("chat", "200");
    metrics.fallbacks.incLabels("a");
    metrics.fallbacks.inc(["a"]);
    metrics.fallbacks.incLabels("b");
    expect(metrics.requests.value(["chat", "200"])).toBe(3);
    expect(metrics.fallbacks.value(["a"])).toBe(2);
    expect(metrics.fallbacks.value(["b"])).toBe(1);
    metrics.requestDuration.observeLabels(0.02, "chat");
    metrics.requestDuration.observe(["chat"], 0.2);
    metrics.attemptDuration.observeLabels(0.5, "p", "success");
    metrics.attemptDuration.observe(["p", "success"], 1.5);
    metrics.attemptDuration.observeLabels(3, "p", "failure");
    const text = metrics.render([], 0);
    expect(text).toContain('g4f_request_duration_seconds_count{route="chat"} 2');
    expect(text).toContain('g4f_request_duration_seconds_sum{route="chat"} 0.22');
    expect(text).toContain('g4f_request_duration_seconds_bucket{route="chat",le="0.025"} 1');
    expect(text).toContain('g4f_attempt_duration_seconds_count{provider="p",outcome="success"} 2');
    expect(text).toContain('g4f_attempt_duration_seconds_sum{provider="p",outcome="success"} 2');
    expect(text).toContain('g4f_attempt_duration_seconds_count{provider="p",outcome="failure"} 1');
    expect(seriesLines(text, "g4f_requests_total")).toEqual([
      'g4f_requests_total{route="chat",status="200"} 3',
    ]);
  });
});
