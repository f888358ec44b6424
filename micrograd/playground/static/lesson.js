// The lesson page's main thread: it only draws and answers clicks. Every number comes from
// micrograd/playground/lesson.py, run by the playground's worker (worker.js, Pyodide), as a value
// and as the text to show; every word comes from lesson-strings.json, in English or Chinese.
"use strict";

const config = window.PLAYGROUND_CONFIG;
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const MAX_QUERY = 200;      // characters of the address's ?... part read; a longer one is ignored
const REQUEST_MS = 180000;  // a request running longer is stopped and Python restarts

// ---- The address: ?lang=zh, ?reveal=all --------------------------------------------------

function readAddress() {
  const search = location.search.length <= MAX_QUERY ? location.search : "";
  const params = new URLSearchParams(search);  // linear in the (capped) text
  return { lang: params.get("lang") === "zh" ? "zh" : "en", revealAll: params.get("reveal") === "all" };
}

const address = readAddress();
const state = {
  lang: address.lang,
  strings: null,
  weight: null,       // lesson.one_weight's answer for the current W
  up: null,           // the "error up or down" prediction: {guess, before, after}
  sign: null,         // the slope-sign prediction: {guess, answer}
  follow: null,       // the last "follow the slope" step or descent
  network: null,      // lesson.network's answer
  forwardShown: 0,    // how many forward-pass quantities are revealed
  w5: null,           // the w5 sign prediction: {guess}
  factor: null,       // lesson.check_factor's answer for the learner's number (guess null: shown)
  derivative: null,   // lesson.check_derivative_text's answer for the learner's formula
  trainGuess: null,   // the "E_total after one step" prediction: {guess}
  firstStep: null,    // lesson.train(1)'s answer
  runs: {},           // lesson.train(steps, order)'s answers by order
  walk: -1,           // the highlighted pseudocode line
};
let actions = 0;  // clicks being answered
window.lesson = { state, ready: false, idle: () => actions === 0 && pending.size === 0 };

// ---- Words ---------------------------------------------------------------------------------

// The text of `key` in the current language, with {name} replaced by vars[name] (text).
function t(key, vars = {}) {
  const table = state.strings ? state.strings[state.lang] : null;
  const template = table && key in table ? table[key] : key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// Sentences run on with a space in English, none in Chinese.
function joined(...sentences) {
  return sentences.filter(Boolean).join(state.lang === "zh" ? "" : " ");
}

function setText(element, text) {
  element.textContent = text;
}

// ---- The worker (the playground's own, through worker-client.js) ----------------------------

const python = new PythonWorker(config, { change: () => showBusy() });
const pending = python.pending;

// lesson.answer(part, ...args), in the worker (not named `lesson`: window.lesson is the tests' view).
function ask(part, args = {}, busyKey = "busy.working", busyVars = {}) {
  return python.request("lesson", { part, ...args }, t(busyKey, busyVars), REQUEST_MS, t("error.restart"))
    .catch((error) => {
      throw error instanceof PythonError ? new Error(t("error.python", { message: error.message })) : error;
    });
}

function showBusy() {
  const oldest = python.oldest();
  $("busy").hidden = oldest === null;
  if (oldest) setText($("busy-text"), oldest.what);
}

function showError(error) {
  const text = String(error && error.message ? error.message : error).slice(0, 300);
  setText($("error"), text);
  $("error").hidden = false;
}

// A click handler: one action at a time counted (the tests wait for none), errors shown.
function guarded(action) {
  return async (...args) => {
    actions += 1;
    try {
      $("error").hidden = true;
      await action(...args);
    } catch (error) {
      showError(error);
    } finally {
      actions -= 1;
      render();
    }
  };
}

// ---- Drawing helpers -------------------------------------------------------------------------

function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

// A line chart of [x, y] points into `svg` (viewBox 320 x 160); returns the scales.
function lineChart(svg, points, { logY = false, label = "" } = {}) {
  svg.replaceChildren();
  svg.setAttribute("aria-label", label);
  const ys = points.map(([, y]) => (logY ? Math.log10(y) : y));
  const xs = points.map(([x]) => x);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => 10 + 300 * (x - x0) / ((x1 - x0) || 1);
  const sy = (y) => 150 - 140 * ((logY ? Math.log10(y) : y) - y0) / ((y1 - y0) || 1);
  svg.appendChild(svgElement("rect", { x: 0, y: 0, width: 320, height: 160, fill: "#fafafa" }));
  svg.appendChild(svgElement("polyline", {
    points: points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" "),
    fill: "none", stroke: "#1f77b4", "stroke-width": 2,
  }));
  return { sx, sy };
}

// ---- Section 1: one weight ------------------------------------------------------------------

async function setWeight(w) {
  state.weight = await ask("weight", { w });
  $("w").value = state.weight.w.shown;
}

function renderWeight() {
  const answer = state.weight;
  if (!answer) return;
  const choices = $("w-choices");
  if (!choices.children.length) {
    for (const choice of answer.choices) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `W = ${choice.shown}`;
      button.addEventListener("click", guarded(() => setWeight(choice.value)));
      choices.appendChild(button);
    }
  }
  const body = $("weight-table").tBodies[0];
  body.replaceChildren();
  for (const row of answer.rows) {
    const tr = body.insertRow();
    for (const key of ["x", "y", "output", "error", "squared"]) cell(tr, row[key].shown, "number");
  }
  setText($("w-total"), answer.total.shown);
  const [first, second] = answer.choices;
  setText($("predict-up-question"), t("question.up", { w: first.shown, w2: second.shown }));
  if (state.up) {
    feedback("predict-up", state.up.guess, state.up.after > state.up.before ? "up" : "down",
      t("feedback.up", { w: first.shown, w2: second.shown, before: state.up.beforeShown, after: state.up.afterShown }));
  }
  const shownW = state.sign ? state.sign.w : answer.w.shown;
  setText($("predict-sign-question"), t("question.sign", { w: shownW }));
  if (state.sign) {
    const fact = state.sign.answer === "zero"
      ? t("feedback.zero", { slope: state.sign.slope, w: state.sign.w })
      : t("feedback.sign", { slope: state.sign.slope, w: state.sign.w });
    feedback("predict-sign", state.sign.guess, state.sign.answer, fact);
  }
  $("slope-panel").hidden = !state.sign;
  setText($("slope-line"), t("weight.slope", { w: answer.w.shown, slope: answer.slope.shown }));
  drawWeightChart(answer);
  const line = $("follow-line");
  if (answer.at_minimum && state.follow && state.follow.minimum) {
    setText(line, t("weight.minimum", { slope: answer.slope.shown, w: answer.w.shown,
      best: state.follow.minimum.w.shown, total: state.follow.minimum.total.shown }));
  } else if (state.follow && state.follow.step) {
    const step = state.follow.step;
    setText(line, t("weight.step", { rate: step.before.rate.shown, slope: step.before.slope.shown,
      w: step.after.w.shown, before: step.before.total.shown, after: step.after.total.shown }));
  } else {
    setText(line, "");
  }
}

function drawWeightChart(answer) {
  const svg = $("weight-chart");
  const { sx, sy } = lineChart(svg, answer.curve, { label: t("chart.weight") });
  const w = answer.w.value;
  const e = answer.total.value;
  const slope = answer.slope.value;
  const [wa, wb] = [answer.curve[0][0], answer.curve[answer.curve.length - 1][0]];
  const half = (wb - wa) / 8;
  svg.appendChild(svgElement("line", {
    x1: sx(w - half), y1: sy(e - slope * half), x2: sx(w + half), y2: sy(e + slope * half),
    stroke: "#d62728", "stroke-width": 2,
  }));
  svg.appendChild(svgElement("circle", { cx: sx(w), cy: sy(e), r: 5, fill: "#d62728" }));
}

// The feedback under a prediction: right or not, and the fact, once the learner has committed.
function feedback(id, guess, answer, fact) {
  const box = $(id);
  const line = box.querySelector(".feedback");
  for (const button of box.querySelectorAll("button[data-guess]")) {
    button.disabled = true;
    button.classList.toggle("chosen", button.dataset.guess === guess);
  }
  if (guess === null) {
    line.className = "feedback";
    setText(line, fact);
  } else {
    const right = guess === answer;
    line.className = `feedback ${right ? "right" : "wrong"}`;
    setText(line, joined(t(right ? "feedback.right" : "feedback.wrong"), fact));
  }
}

async function predictUp(guess) {
  const [first, second] = state.weight.choices;
  const before = await ask("weight", { w: first.value });
  await setWeight(second.value);
  state.up = { guess, before: before.total.value, beforeShown: before.total.shown,
    after: state.weight.total.value, afterShown: state.weight.total.shown };
}

function predictSign(guess) {
  const answer = state.weight;
  state.sign = { guess, answer: answer.slope_sign, slope: answer.slope.shown, w: answer.w.shown };
}

async function follow() {
  state.follow = { step: await ask("step", { w: state.weight.w.value }) };
  state.weight = state.follow.step.after;
  if (state.weight.at_minimum) state.follow.minimum = (await ask("descend", { w: state.weight.w.value })).minimum;
  $("w").value = state.weight.w.shown;
}

async function descend() {
  const answer = await ask("descend", { w: state.weight.w.value });
  state.follow = { minimum: answer.minimum };
  state.weight = answer.after;
  $("w").value = state.weight.w.shown;
}

// ---- Section 2: the network -----------------------------------------------------------------

function renderNetwork() {
  const net = state.network;
  if (!net) return;
  drawNetwork(net);
  const named = $("named");
  named.replaceChildren();
  for (const [name, number] of Object.entries(net.named)) {
    const chip = document.createElement("span");
    chip.className = "formula";
    chip.textContent = `${name} = ${number.shown}`;
    named.appendChild(chip);
  }
  const list = $("forward-list");
  list.replaceChildren();
  for (const step of net.forward.slice(0, state.forwardShown)) {
    const li = document.createElement("li");
    li.className = "formula";
    li.dataset.name = step.name;
    li.textContent = `${step.name} = ${step.formula} = ${step.numbers} = ${step.shown}`;
    list.appendChild(li);
  }
  const done = state.forwardShown >= net.forward.length;
  $("forward-next").disabled = $("forward-all").disabled = done;

  const w5 = net.w5;
  if (state.w5) feedback("predict-w5", state.w5.guess, w5.sign, t("feedback.w5", { grad: w5.backward.shown }));
  $("w5-panel").hidden = !state.w5;
  setText($("predict-factor-question"), t("predict.factor", { out: net.forward.find((f) => f.name === "out_o1").shown }));
  const factorLine = $("predict-factor").querySelector(".feedback");
  const judged = state.factor;
  for (const control of $("factor-form").elements) control.disabled = Boolean(judged);
  if (judged && judged.guess === null) {
    factorLine.className = "feedback";
    setText(factorLine, t("factor.value", { value: judged.value.shown }));
  } else if (judged) {
    factorLine.className = `feedback ${judged.right ? "right" : "wrong"}`;
    setText(factorLine, joined(
      t(judged.right ? "feedback.right" : "feedback.wrong"),
      t("factor.off", { guess: judged.guess.shown, value: judged.value.shown, difference: judged.difference.shown }),
      judged.mistake ? t(`factor.mistake-${judged.mistake}`, { out: judged.out_o1.shown }) : ""));
  } else {
    setText(factorLine, "");
  }
  $("w5-detail").hidden = !judged;
  const factors = $("w5-factors").tBodies[0];
  factors.replaceChildren();
  for (const factor of w5.factors) {
    const tr = factors.insertRow();
    cell(tr, factor.name, "formula");
    cell(tr, factor.formula, "formula");
    cell(tr, factor.shown, "number");
  }
  setText($("w5-product"), t("backward.product", {
    factors: w5.factors.map((f) => f.shown).join(" × "), product: w5.product.shown }));
  setText($("w5-backward"), t("backward.check", { backward: w5.backward.shown }));
  const update = net.updates.find((u) => u.name === "w5");
  setText($("w5-update"), t("backward.update", { lr: net.lr.shown, w5: update.before.shown,
    grad: update.grad.shown, after: update.after.shown }));
  const paths = $("w1-paths");
  paths.replaceChildren();
  for (const path of net.w1.paths) {
    const li = document.createElement("li");
    li.textContent = t("w1.path", { node: path.nodes[path.nodes.length - 2], product: path.shown });
    paths.appendChild(li);
  }
  setText($("w1-total"), t("w1.total", { grad: net.w1.backward.shown }));
  const updates = $("updates").tBodies[0];
  updates.replaceChildren();
  for (const u of net.updates) {
    const tr = updates.insertRow();
    cell(tr, u.name, "formula");
    for (const key of ["before", "grad", "after"]) cell(tr, u[key].shown, "number");
  }
  setText($("updates-title"), t("updates.title", { lr: net.lr.shown }));
  renderDerivative();
  renderTraining(net);
}

// The exercise: the learner's formula for the sigmoid's slope, checked point by point.
function renderDerivative() {
  const answer = state.derivative;
  const line = $("derivative-feedback");
  const table = $("derivative-table");
  table.hidden = true;
  line.className = "feedback";
  if (!answer) return setText(line, "");
  if (!answer.written) return setText(line, t("derivative.blank"));
  if (answer.problem === "unreadable") return setText(line, t("derivative.unreadable", { message: answer.message }));
  if (answer.problem === "names") return setText(line, t("derivative.names", { names: answer.names.join(", ") }));
  line.className = `feedback ${answer.right ? "right" : "wrong"}`;
  setText(line, joined(
    t(answer.right ? "derivative.right" : "derivative.wrong", { wrong: answer.wrong, checked: answer.checked }),
    answer.mistake ? t(`derivative.mistake-${answer.mistake}`, { factor: answer.factor ? answer.factor.shown : "" }) : ""));
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const row of answer.rows) {
    const tr = body.insertRow();
    tr.className = row.right ? "right" : "wrong";
    for (const key of ["x", "yours", "central", "difference"]) cell(tr, row[key].shown, "number");
  }
  table.hidden = false;
}

// The network drawn: inputs, hidden and output neurons, each edge with its weight's number.
function drawNetwork(net) {
  const svg = $("network-drawing");
  svg.replaceChildren();
  const at = { i1: [40, 70], i2: [40, 170], h1: [190, 70], h2: [190, 170], o1: [340, 70], o2: [340, 170] };
  const edges = [["w1", "i1", "h1"], ["w2", "i2", "h1"], ["w3", "i1", "h2"], ["w4", "i2", "h2"],
    ["w5", "h1", "o1"], ["w6", "h2", "o1"], ["w7", "h1", "o2"], ["w8", "h2", "o2"]];
  for (const [name, from, to] of edges) {
    const [x1, y1] = at[from];
    const [x2, y2] = at[to];
    svg.appendChild(svgElement("line", { x1, y1, x2, y2, stroke: "#999" }));
    // Straight edges labelled half-way, crossing ones a quarter of the way, where they are apart.
    const f = y1 === y2 ? 0.5 : 0.25;
    svg.appendChild(svgElement("text", {
      x: x1 + (x2 - x1) * f, y: y1 + (y2 - y1) * f + (y1 === y2 ? -5 : 4), "font-size": 11,
      "text-anchor": "middle", class: "weight-label",
    }, `${name} ${net.named[name].shown}`));
  }
  for (const [name, [x, y]] of Object.entries(at)) {
    svg.appendChild(svgElement("circle", { cx: x, cy: y, r: 18, fill: "#eef3fb", stroke: "#1f77b4" }));
    svg.appendChild(svgElement("text", { x, y: y + 4, "font-size": 13, "text-anchor": "middle" }, name));
  }
  const notes = [
    [40, 24, `i1 ${net.named.i1.shown}`], [40, 214, `i2 ${net.named.i2.shown}`],
    [190, 214, `b1 ${net.named.b1.shown}`], [265, 214, `b2 ${net.named.b2.shown}`],
    [340, 24, `t1 ${net.named.t1.shown}`], [340, 214, `t2 ${net.named.t2.shown}`],
  ];
  for (const [x, y, text] of notes) {
    svg.appendChild(svgElement("text", { x, y, "font-size": 11, "text-anchor": "middle" }, text));
  }
}

function order() {
  return $("early").checked ? "early" : "correct";
}

function pseudocode() {
  return order() === "early"
    ? ["code.init", "code.repeat", "code.forward", "code.backward-out", "code.update-out", "code.backward-hidden", "code.update-hidden"]
    : ["code.init", "code.repeat", "code.forward", "code.backward", "code.update"];
}

function renderTraining(net) {
  const first = state.firstStep;
  if (state.trainGuess && first) {
    feedback("predict-train", state.trainGuess.guess, first.first.value < first.start.value ? "down" : "up",
      t("feedback.train", { first: first.first.shown, start: first.start.shown }));
  }
  $("train-panel").hidden = !state.trainGuess;
  setText($("train"), t("train.run", { steps: net.train_steps }));
  const run = state.runs[order()];
  for (const id of ["train-first", "train-final", "train-outputs", "train-why", "train-chart-note"]) setText($(id), "");
  $("train-chart").replaceChildren();
  if (run) {
    setText($("train-first"), t("train.first", { first: run.first.shown }));
    setText($("train-final"), t("train.final", { steps: run.steps, final: run.final.shown }));
    setText($("train-outputs"), t("train.outputs", { o1: run.outputs[0].shown, o2: run.outputs[1].shown,
      t1: run.targets[0].shown, t2: run.targets[1].shown }));
    setText($("train-why"), t(run.order === "early" ? "train.why-early" : "train.why-correct"));
    lineChart($("train-chart"), run.curve, { logY: true, label: t("chart.train") });
    setText($("train-chart-note"), t("chart.train"));
  }
  const lines = pseudocode();
  const list = $("pseudocode");
  list.replaceChildren();
  lines.forEach((key, k) => {
    const li = document.createElement("li");
    li.className = "formula" + (k >= 2 ? " inner" : "") + (k === state.walk ? " current" : "");
    li.dataset.line = key;
    const caption = walkCaption(key, net);
    li.textContent = t(key, { steps: net.train_steps }) + (k === state.walk && caption ? `   ⟵ ${caption}` : "");
    list.appendChild(li);
  });
}

function walkCaption(key, net) {
  const w5 = net.updates.find((u) => u.name === "w5");
  const first = state.firstStep;
  if (key === "code.init") return t("code.at-init", { weights: net.updates.map((u) => u.before.shown).join(", ") });
  if (key === "code.forward") return t("code.at-forward", { e: net.e_total.shown });
  if (key === "code.backward" || key === "code.backward-out") return t("code.at-backward", { grad: net.w5.backward.shown });
  if ((key === "code.update" || key === "code.update-out") && first && order() === "correct") {
    return t("code.at-update", { after: w5.after.shown, first: first.first.shown });
  }
  return "";
}

async function train() {
  const net = state.network;
  const chosen = order();
  state.runs[chosen] = await ask("train", { steps: net.train_steps, order: chosen }, "busy.train", { steps: net.train_steps });
}

async function predictTrain(guess) {
  state.firstStep = await ask("train", { steps: 1 });
  state.trainGuess = { guess };
}

// ---- Everything, in the current language ---------------------------------------------------

function render() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-t]")) setText(element, t(element.dataset.t));
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
  document.title = `micrograd · ${t("title")}`;
  if (window.lesson.ready) setText($("status"), t("status.ready", { version: $("version").textContent }));
  renderWeight();
  renderNetwork();
}

function setLanguage(lang) {
  state.lang = lang;
  const params = new URLSearchParams(location.search.length <= MAX_QUERY ? location.search : "");
  params.set("lang", lang);
  history.replaceState(null, "", `?${params}`);
  render();
}

function wire() {
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  $("weight-form").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    const text = $("w").value.trim().slice(0, 40);
    // Enter fires both "change" and a submit: the W already shown is not asked for again.
    if (text === "" || (state.weight && text === state.weight.w.shown)) return;
    await setWeight(Number(text));
  }));
  $("w").addEventListener("change", () => $("weight-form").requestSubmit());
  const guesses = [["predict-up", predictUp], ["predict-sign", predictSign], ["predict-w5", (guess) => { state.w5 = { guess }; }],
    ["predict-train", predictTrain]];
  for (const [id, action] of guesses) {
    for (const button of $(id).querySelectorAll("button[data-guess]")) {
      button.addEventListener("click", guarded(() => action(button.dataset.guess)));
    }
  }
  $("factor-form").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    const text = $("factor-guess").value.trim().slice(0, 40);
    if (text !== "") state.factor = await ask("factor", { guess: Number(text) });
  }));
  $("factor-skip").addEventListener("click", guarded(async () => {
    const judged = await ask("factor", { guess: 0 });
    state.factor = { ...judged, guess: null };
  }));
  $("derivative-form").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    state.derivative = await ask("derivative", { text: $("derivative-text").value.slice(0, 500) });
  }));
  $("follow").addEventListener("click", guarded(follow));
  $("descend").addEventListener("click", guarded(descend));
  $("forward-next").addEventListener("click", guarded(() => { state.forwardShown += 1; }));
  $("forward-all").addEventListener("click", guarded(() => { state.forwardShown = state.network.forward.length; }));
  $("early").addEventListener("change", guarded(async () => {
    state.walk = -1;
    if (!state.runs[order()] && Object.keys(state.runs).length) await train();
  }));
  $("train").addEventListener("click", guarded(train));
  $("walk").addEventListener("click", guarded(async () => {
    if (!state.firstStep) state.firstStep = await ask("train", { steps: 1 });
    state.walk = (state.walk + 1) % pseudocode().length;
  }));
}

// ?reveal=all: every prediction answered by the page itself, every step shown, the training run.
async function revealAll() {
  const [first, second] = state.weight.choices;
  const before = await ask("weight", { w: first.value });
  const after = await ask("weight", { w: second.value });
  state.up = { guess: null, before: before.total.value, beforeShown: before.total.shown,
    after: after.total.value, afterShown: after.total.shown };
  state.sign = { guess: null, answer: state.weight.slope_sign, slope: state.weight.slope.shown, w: state.weight.w.shown };
  state.forwardShown = state.network.forward.length;
  state.w5 = { guess: null };
  state.factor = { ...(await ask("factor", { guess: 0 })), guess: null };
  state.derivative = await ask("derivative", { reveal: true });
  $("derivative-text").value = state.derivative.text;
  state.firstStep = await ask("train", { steps: 1 });
  state.trainGuess = { guess: null };
  render();
  await train();
}

async function main() {
  const response = await fetch("lesson-strings.json");
  state.strings = await response.json();
  render();
  wire();
  python.start();
  const versions = await python.ready;
  setText($("version"), versions.micrograd);
  await setWeight(undefined);
  state.network = await ask("network");
  window.lesson.ready = true;
  render();
  if (address.revealAll) await guarded(revealAll)();
}

actions += 1;
main().catch(showError).finally(() => { actions -= 1; });
