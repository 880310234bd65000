// The registry's console: provider health with live charts, and a playground.
// Hand-written on purpose (no build step); charts by uPlot and SSE parsing by
// eventsource-parser, both served by the registry itself from its dependencies.
import { createParser } from "./vendor/eventsource-parser.js";
import uPlot from "./vendor/uplot.js";

const keyStorageName = "g4f-ts.console.api-key";
const refreshParameter = Number(new URLSearchParams(location.search).get("refresh"));
/** How often the health view asks for fresh stats (`?refresh=<ms>` overrides it). */
const refreshMs =
  Number.isFinite(refreshParameter) && refreshParameter >= 250 ? refreshParameter : 2000;

const element = (id) => document.getElementById(id);
const view = {
  connection: element("connection"),
  forgetKey: element("forget-key"),
  keySection: element("key-section"),
  keyForm: element("key-form"),
  keyInput: element("key-input"),
  keyError: element("key-error"),
  data: element("data"),
  summary: element("health-summary"),
  providers: element("providers"),
  chatForm: element("chat-form"),
  model: element("model"),
  provider: element("provider"),
  transcript: element("transcript"),
  message: element("message"),
  send: element("send"),
  stop: element("stop"),
  clear: element("clear"),
  answer: element("answer"),
  images: element("images"),
  answerError: element("answer-error"),
  factProvider: element("fact-provider"),
  factFirstChunk: element("fact-first-chunk"),
  factTotal: element("fact-total"),
  factTokens: element("fact-tokens"),
  attempts: element("attempts"),
};

const state = {
  key: sessionStorage.getItem(keyStorageName) ?? "",
  /** The `/v1/models` entries. */
  models: [],
  /** Per provider id: its card's parts and charts. */
  cards: new Map(),
  /** The finished turns of the conversation, as OpenAI messages. */
  history: [],
  refreshTimer: undefined,
  /** The running playground request, to stop it. */
  running: undefined,
};

/** A call that was refused for want of a valid key. */
class KeyRefused extends Error {}

/** GET or POST to the registry with the key, if any; throws `KeyRefused` on a 401. */
async function call(path, init = {}) {
  const headers = new Headers(init.headers);
  if (state.key !== "") headers.set("authorization", `Bearer ${state.key}`);
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) {
    const body = await response.json().catch(() => undefined);
    throw new KeyRefused(body?.error?.message ?? "The API key was refused");
  }
  return response;
}

async function callJson(path) {
  const response = await call(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body?.error?.message ?? `${path} answered ${response.status}`);
  return body;
}

// ---- key prompt ----------------------------------------------------------

function askForKey(message) {
  clearTimeout(state.refreshTimer);
  view.data.hidden = true;
  view.keySection.hidden = false;
  view.forgetKey.hidden = true;
  view.keyError.textContent = message;
  view.connection.textContent = "Waiting for an API key";
  view.keyInput.focus();
}

view.keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  state.key = view.keyInput.value.trim();
  sessionStorage.setItem(keyStorageName, state.key);
  view.keyInput.value = "";
  view.keyError.textContent = "";
  void start();
});

view.forgetKey.addEventListener("click", () => {
  state.key = "";
  sessionStorage.removeItem(keyStorageName);
  askForKey("");
});

// ---- health ----------------------------------------------------------------

const statusWords = {
  ok: "working",
  failing: "failing",
  cooling_down: "cooling down",
  disabled: "disabled",
};

function seconds(milliseconds) {
  return `${Math.max(1, Math.ceil(milliseconds / 1000))} s`;
}

function statusText(provider) {
  const { health } = provider;
  if (health.status === "cooling_down")
    return `cooling down, ${seconds(health.cooldown_remaining_ms)} left`;
  if (!provider.working && provider.enabled) return "marked not working";
  return statusWords[health.status] ?? health.status;
}

function reasonsText(reasons) {
  const entries = Object.entries(reasons).sort((left, right) => right[1] - left[1]);
  return entries.length === 0
    ? "none"
    : entries.map(([reason, count]) => `${reason} ×${count}`).join(", ");
}

function fact(list, term) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  list.append(dt, dd);
  return dd;
}

function chartWidth(container) {
  return Math.max(200, Math.floor(container.clientWidth || 300));
}

function makeChart(container, title, series) {
  const heading = document.createElement("p");
  heading.className = "chart-title";
  heading.textContent = title;
  const holder = document.createElement("div");
  // The chart is a picture to a screen reader; its label carries the latest values.
  holder.setAttribute("role", "img");
  holder.setAttribute("aria-label", title);
  container.append(heading, holder);
  const options = {
    width: chartWidth(container),
    height: 110,
    cursor: { drag: { x: false, y: false } },
    legend: { show: true, live: false },
    scales: { x: { time: true } },
    axes: [{ size: 28, space: 60 }, { size: 44 }],
    series: [{}, ...series.map((item) => ({ width: 1.5, ...item }))],
  };
  const empty = [[], ...series.map(() => [])];
  const chart = new uPlot(options, empty, holder);
  chart.describe = (values) => holder.setAttribute("aria-label", `${title}, latest: ${values}`);
  return chart;
}

function createCard(provider) {
  const item = document.createElement("li");
  item.className = "provider";
  item.dataset.provider = provider.id;
  const heading = document.createElement("h3");
  const name = document.createElement("span");
  name.textContent =
    provider.label === provider.id ? provider.id : `${provider.id} (${provider.label})`;
  const badge = document.createElement("span");
  badge.className = "badge";
  heading.append(name, badge);
  const facts = document.createElement("dl");
  facts.className = "facts";
  const parts = {
    item,
    badge,
    enabled: fact(facts, "Enabled"),
    inFlight: fact(facts, "In flight"),
    failures: fact(facts, "Recent failures"),
    counts: fact(facts, "Since start"),
    lastError: fact(facts, "Last error"),
  };
  const models = document.createElement("details");
  models.className = "models";
  parts.modelsSummary = document.createElement("summary");
  parts.modelsList = document.createElement("ul");
  models.append(parts.modelsSummary, parts.modelsList);
  const charts = document.createElement("div");
  charts.className = "chart";
  item.append(heading, facts, models, charts);
  view.providers.append(item);
  parts.chartBox = charts;
  parts.rateChart = makeChart(charts, "Requests and errors per minute", [
    { label: "requests", stroke: "#2563eb" },
    { label: "errors", stroke: "#dc2626" },
  ]);
  parts.latencyChart = makeChart(charts, "Time to first chunk (ms)", [
    { label: "first chunk", stroke: "#7c3aed" },
  ]);
  parts.modelsKey = "";
  return parts;
}

function capabilityText(provider, model) {
  const flags = [provider.image_models.includes(model) ? "image" : "chat"];
  const declared = provider.capabilities?.[model] ?? provider.model_capabilities?.[model];
  if (declared !== undefined && typeof declared === "object")
    for (const [name, value] of Object.entries(declared)) if (value === true) flags.push(name);
  return flags.join(", ");
}

function updateModels(parts, provider) {
  const names = [...new Set([...provider.models, ...provider.image_models])];
  const key = JSON.stringify([names, provider.aliases, provider.capabilities ?? null]);
  if (key === parts.modelsKey) return;
  parts.modelsKey = key;
  const features = [
    provider.supports_stream ? "streams" : "no streaming",
    provider.needs_auth ? "needs auth" : "no auth",
  ];
  parts.modelsSummary.textContent = `${names.length} model${names.length === 1 ? "" : "s"} · ${features.join(" · ")}`;
  parts.modelsList.replaceChildren(
    ...names.map((model) => {
      const line = document.createElement("li");
      line.textContent = `${model} (${capabilityText(provider, model)})`;
      return line;
    }),
  );
  const aliases = Object.entries(provider.aliases);
  if (aliases.length > 0) {
    const line = document.createElement("li");
    line.textContent = `aliases: ${aliases.map(([alias, model]) => `${alias} → ${model}`).join(", ")}`;
    parts.modelsList.append(line);
  }
}

function updateCharts(parts, traffic, bucketMs) {
  const { series } = traffic;
  const perMinute = 60_000 / bucketMs;
  const times = series.attempts.map((_, index) => (series.start + index * bucketMs) / 1000);
  parts.rateChart.setData([
    times,
    series.attempts.map((count) => count * perMinute),
    series.failures.map((count) => count * perMinute),
  ]);
  parts.latencyChart.setData([times, series.first_chunk_ms]);
  const last = series.attempts.length - 1;
  parts.rateChart.describe(
    `${series.attempts[last] * perMinute} requests and ${series.failures[last] * perMinute} errors per minute`,
  );
  const firstChunk = series.first_chunk_ms[last];
  parts.latencyChart.describe(firstChunk === null ? "no answer" : `${firstChunk} ms`);
}

function renderHealth(stats) {
  const seen = new Set();
  for (const provider of stats.data) {
    seen.add(provider.id);
    let parts = state.cards.get(provider.id);
    if (parts === undefined) {
      parts = createCard(provider);
      state.cards.set(provider.id, parts);
    }
    const { health, traffic } = provider;
    parts.item.dataset.status = health.status;
    parts.badge.textContent = statusText(provider);
    parts.enabled.textContent = `${provider.enabled ? "yes" : "no"}, priority ${provider.priority}${provider.working ? "" : ", marked not working"}`;
    parts.inFlight.textContent = String(traffic.in_flight);
    parts.failures.textContent = `${reasonsText(traffic.recent_failures)} (last ${Math.round(stats.window_ms / 60_000)} min)`;
    const cooling =
      health.clients_cooling_down > 0
        ? `, cooling down for ${health.clients_cooling_down} client(s)`
        : "";
    parts.counts.textContent = `${health.successes} ok, ${health.failures} failed, ${health.consecutive_failures} in a row${cooling}`;
    parts.lastError.textContent = health.last_error ?? "—";
    updateModels(parts, provider);
    updateCharts(parts, traffic, stats.bucket_ms);
  }
  for (const [id, parts] of state.cards)
    if (!seen.has(id)) {
      parts.rateChart.destroy();
      parts.latencyChart.destroy();
      parts.item.remove();
      state.cards.delete(id);
    }
  const cooling = stats.data.filter((provider) => provider.health.status === "cooling_down").length;
  const enabled = stats.data.filter((provider) => provider.enabled).length;
  view.summary.textContent = `${stats.data.length} provider${stats.data.length === 1 ? "" : "s"}, ${enabled} enabled, ${cooling} cooling down. Charts: the last ${Math.round(stats.window_ms / 60_000)} minutes in ${stats.bucket_ms / 1000}-second steps.`;
}

const resizeCharts = new ResizeObserver(() => {
  for (const parts of state.cards.values()) {
    const width = chartWidth(parts.chartBox);
    for (const chart of [parts.rateChart, parts.latencyChart])
      if (chart.width !== width) chart.setSize({ width, height: 110 });
  }
});
resizeCharts.observe(view.providers);

async function refresh() {
  clearTimeout(state.refreshTimer);
  try {
    renderHealth(await callJson("/v1/console/stats"));
    view.connection.textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (error instanceof KeyRefused) {
      askForKey(error.message);
      return;
    }
    view.connection.textContent = `Could not reach the registry: ${error.message}`;
  }
  state.refreshTimer = setTimeout(refresh, refreshMs);
}

// ---- playground --------------------------------------------------------------

function renderModels(models) {
  state.models = models;
  const selected = view.model.value;
  const groups = [
    ["Chat models", models.filter((model) => model.type !== "image")],
    ["Image models", models.filter((model) => model.type === "image")],
  ];
  view.model.replaceChildren(
    ...groups
      .filter(([, list]) => list.length > 0)
      .map(([label, list]) => {
        const group = document.createElement("optgroup");
        group.label = label;
        for (const model of list) group.append(new Option(model.id, model.id));
        return group;
      }),
  );
  if (models.some((model) => model.id === selected)) view.model.value = selected;
  renderProviderChoices();
}

function renderProviderChoices() {
  const model = state.models.find((entry) => entry.id === view.model.value);
  const selected = view.provider.value;
  const providers = model?.providers ?? [];
  view.provider.replaceChildren(
    new Option("Any (with fallback)", ""),
    ...providers.map((id) => new Option(id, id)),
  );
  if (providers.includes(selected)) view.provider.value = selected;
}

view.model.addEventListener("change", renderProviderChoices);

view.message.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    view.chatForm.requestSubmit();
  }
});

view.clear.addEventListener("click", () => {
  state.history = [];
  view.transcript.replaceChildren();
  resetAnswer();
  view.message.focus();
});

view.stop.addEventListener("click", () => state.running?.abort());

function addTurn(role, content) {
  state.history.push({ role, content });
  const line = document.createElement("li");
  line.dataset.role = role;
  line.textContent = `${role === "user" ? "You" : "Assistant"}: ${content}`;
  view.transcript.append(line);
  line.scrollIntoView({ block: "nearest" });
}

function resetAnswer() {
  view.answer.textContent = "";
  view.images.replaceChildren();
  view.answerError.textContent = "";
  view.factProvider.textContent = "—";
  view.factFirstChunk.textContent = "—";
  view.factTotal.textContent = "—";
  view.factTokens.textContent = "—";
  renderAttempts([]);
}

function renderAttempts(attempts) {
  if (attempts.length === 0) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = "None";
    view.attempts.replaceChildren(none);
    return;
  }
  view.attempts.replaceChildren(
    ...attempts.map((attempt) => {
      const line = document.createElement("li");
      if (attempt.more !== undefined) line.textContent = `… and ${attempt.more} more`;
      else
        line.textContent = `${attempt.provider} (${attempt.model}): ${attempt.reason}${attempt.status === null ? "" : ` ${attempt.status}`}, ${attempt.message}`;
      return line;
    }),
  );
}

/** The failed attempts a successful answer names in its `x-g4f-attempts` header. */
function attemptsOf(response) {
  const header = response.headers.get("x-g4f-attempts");
  if (header === null) return [];
  try {
    const attempts = JSON.parse(header);
    return Array.isArray(attempts) ? attempts : [];
  } catch {
    return [];
  }
}

function milliseconds(value) {
  return `${Math.round(value)} ms`;
}

async function showError(response) {
  const body = await response.json().catch(() => undefined);
  view.answerError.textContent = body?.error?.message ?? `The registry answered ${response.status}`;
  renderAttempts(body?.error?.attempts ?? []);
}

async function streamChat(response, startedAt) {
  view.factProvider.textContent = response.headers.get("x-g4f-provider") ?? "—";
  renderAttempts(attemptsOf(response));
  let text = "";
  let firstChunkAt;
  const parser = createParser({
    onEvent(event) {
      if (event.data === "[DONE]") return;
      const chunk = JSON.parse(event.data);
      if (chunk.error !== undefined) {
        view.answerError.textContent = `The answer broke off: ${chunk.error.message}`;
        return;
      }
      if (typeof chunk.provider === "string") view.factProvider.textContent = chunk.provider;
      const delta = chunk.choices?.[0]?.delta;
      const piece = delta?.content ?? delta?.reasoning_content ?? "";
      if (piece !== "") {
        if (firstChunkAt === undefined) {
          firstChunkAt = performance.now();
          view.factFirstChunk.textContent = milliseconds(firstChunkAt - startedAt);
        }
        text += piece;
        view.answer.textContent = text;
      }
      if (chunk.usage)
        view.factTokens.textContent = `${chunk.usage.prompt_tokens} in, ${chunk.usage.completion_tokens} out`;
    },
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(value);
  }
  return text;
}

async function generateImages(response) {
  view.factProvider.textContent = response.headers.get("x-g4f-provider") ?? "—";
  renderAttempts(attemptsOf(response));
  const body = await response.json();
  const images = body.data ?? [];
  view.images.replaceChildren(
    ...images.map((image, index) => {
      const picture = document.createElement("img");
      picture.src = image.url ?? `data:image/png;base64,${image.b64_json}`;
      picture.alt = `Image ${index + 1} for: ${image.revised_prompt ?? ""}`;
      picture.loading = "lazy";
      return picture;
    }),
  );
  view.answer.textContent = `${images.length} image${images.length === 1 ? "" : "s"}`;
}

view.chatForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const content = view.message.value.trim();
  if (content === "" || state.running !== undefined) return;
  const model = state.models.find((entry) => entry.id === view.model.value);
  if (model === undefined) return;
  const provider = view.provider.value;
  const isImage = model.type === "image";
  resetAnswer();
  view.message.value = "";
  const controller = new AbortController();
  state.running = controller;
  view.send.disabled = true;
  view.stop.disabled = false;
  view.answer.setAttribute("aria-busy", "true");
  const startedAt = performance.now();
  try {
    const body = isImage
      ? { model: model.id, prompt: content }
      : {
          model: model.id,
          messages: [...state.history, { role: "user", content }],
          stream: true,
          stream_options: { include_usage: true },
        };
    if (provider !== "") body.provider = provider;
    const response = await call(isImage ? "/v1/images/generations" : "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!response.ok) {
      await showError(response);
      view.message.value ||= content;
      return;
    }
    if (isImage) {
      await generateImages(response);
      return;
    }
    const answer = await streamChat(response, startedAt);
    addTurn("user", content);
    addTurn("assistant", answer);
  } catch (error) {
    view.message.value ||= content;
    if (error instanceof KeyRefused) askForKey(error.message);
    else if (error.name === "AbortError") view.answerError.textContent = "Stopped.";
    else view.answerError.textContent = `The request failed: ${error.message}`;
  } finally {
    view.factTotal.textContent = milliseconds(performance.now() - startedAt);
    view.answer.setAttribute("aria-busy", "false");
    state.running = undefined;
    view.send.disabled = false;
    view.stop.disabled = true;
    void refresh();
  }
});

// ---- start -------------------------------------------------------------------

async function start() {
  try {
    const models = await callJson("/v1/models");
    renderModels(models.data);
  } catch (error) {
    if (error instanceof KeyRefused) {
      askForKey(state.key === "" ? "" : error.message);
      return;
    }
    view.connection.textContent = `Could not reach the registry: ${error.message}`;
    return;
  }
  view.keySection.hidden = true;
  view.data.hidden = false;
  view.forgetKey.hidden = state.key === "";
  await refresh();
}

void start();
