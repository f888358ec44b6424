// The playground page's main thread: it only draws and answers clicks. Python (the package's own
// micrograd/playground/glue.py, in Pyodide) and Graphviz run in worker.js; every number and rule
// the page shows comes from there. A request that runs too long, or that the learner cancels,
// ends the worker; a fresh one starts and the page stays as it was.
"use strict";

const config = window.PLAYGROUND_CONFIG;
const $ = (id) => document.getElementById(id);

// A request running longer than limits.requestMs is stopped (the browser tests lower it).
const limits = { requestMs: 20000 };
const MAX_ADDRESS = config.limits.address;  // the package's limit (glue.MAX_ADDRESS_LENGTH)
const MAX_MESSAGE = 300;      // characters of a message shown

const state = {
  spec: null,          // what is drawn: see glue.py's docstring
  graph: null,         // glue's answer for the spec: DOT, SVG, output, leaves
  graphElement: null,  // its drawing, the final graph
  frames: null,        // backward frames of the spec, with each step's rule
  framesPromise: null,
  forward: null,       // forward steps of the spec
  forwardPromise: null,
  pass: "backward",    // which pass the stepper steps
  frameIndex: -1,      // -1: the final graph; k: step k of the pass
  errors: [],          // E_total per training step, for the chart
  writtenHash: "",
};
// Milliseconds since the page was opened, and durations; the browser tests read them.
const timings = {
  pythonReady: null, vizReady: null, firstGraph: null,
  framesComputed: null, lastFrame: null, frames: [], restarts: 0,
};
window.playground = {
  state, timings, limits, ready: false,
  idle: () => actions === 0 && pending.size === 0,
};

class AddressError extends PageError {}  // PageError: worker-client.js

// ---- The worker (worker-client.js) ----------------------------------------------------------

let progressText = "";
const python = new PythonWorker(config, {
  progress: (text) => {
    progressText = (python.restarting ? "Restarting: " : "") + text;
    updateBusy();
  },
  change: () => {
    progressText = "";
    updateBusy();
  },
  restarted: () => {
    timings.restarts += 1;
    state.framesPromise = null;
    state.forwardPromise = null;
    progressText = "Restarting Python…";
    updateBusy();
  },
  back: () => {
    progressText = "";
    updateBusy();
  },
});
const pending = python.pending;

// One request to glue.py (through the worker); `what` names it in progress and messages.
function request(call, args, what) {
  return python.request(call, args, what, limits.requestMs,
    `${what} took longer than ${limits.requestMs / 1000} s, so the page stopped it. ` +
    "Try a smaller expression; Python is restarting.");
}

// The busy line: what is running, for how long, and a Cancel button.
function updateBusy() {
  const jobs = [...pending.values()];
  const busy = jobs.length > 0 || progressText !== "";
  $("busy").hidden = !busy;
  if (!busy) return;
  const oldest = python.oldest();
  $("busy-text").textContent = progressText || oldest.what + "…";
  const since = oldest ? oldest.started : null;
  $("busy-time").textContent =
    since === null ? "" : `${((performance.now() - since) / 1000).toFixed(1)} s`;
  $("cancel").hidden = jobs.length === 0;
}
setInterval(() => { if (pending.size) updateBusy(); }, 200);

// ---- Messages -----------------------------------------------------------------------------

function capped(text) {
  return text.length <= MAX_MESSAGE ? text : text.slice(0, MAX_MESSAGE - 1) + "…";
}

function showError(message) {
  $("error").textContent = capped(message);  // text, never markup
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

// Runs an action from a button, a key or the address, showing what goes wrong as a message.
let actions = 0;  // actions begun and not yet done: the browser tests wait for none
function guarded(action) {
  return async (event) => {
    if (event && event.preventDefault) event.preventDefault();
    actions += 1;
    try {
      clearError();
      await action(event);
    } catch (error) {
      if (!(error instanceof PageError)) {
        console.error(error);
        showError("Something went wrong in the page; the graph shown is still right.");
      } else {
        showError(error.message);
      }
    } finally {
      actions -= 1;
    }
  };
}

function number(x, digits = 9) {
  return typeof x === "number" ? x.toFixed(digits) : String(x);  // "inf", "nan" from Python
}

function short(x) {
  return typeof x === "number" ? String(Number(x.toPrecision(6))) : String(x);
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

// ---- Drawing a spec -----------------------------------------------------------------------

function parseSvg(text) {
  return new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
}

async function show(spec) {
  const graph = await request("graph", { spec }, "Drawing the graph");
  state.spec = spec;
  state.graph = graph;
  state.frames = state.framesPromise = null;
  state.forward = state.forwardPromise = null;
  state.frameIndex = -1;
  state.graphElement = parseSvg(graph.svg);
  showGraph(state.graphElement);
  if (narrow.matches) {
    setFit(false);  // measured at full size
    setFit($("graph").scrollWidth > $("graph").clientWidth + 1);
  }
  showSummary(graph);
  for (const id of ["explain-panel", "rule-panel", "check-result"]) $(id).hidden = true;
  $("frame-title").textContent = "The graph after backward(): click a blue input for its " +
    "chain rule, an op circle or an arrow for its rule, or Step to go through a pass.";
  updateStepper();
  writeHash();
  if (timings.firstGraph === null) {
    timings.firstGraph = performance.now();
    showTimings();
  }
  prepareFrames(spec);
}

function titleOf(node) {
  const title = node.querySelector("title");
  return title ? title.textContent : "";
}

// On a phone a graph wider than the screen is first shown whole, shrunk to the width; a tap
// enlarges it to full size around the part tapped.
const narrow = window.matchMedia("(max-width: 40rem)");

function setFit(on) {
  $("fit").checked = on;
  $("graph").classList.toggle("fit", on);
}

function enlargeAt(event) {
  const box = $("graph");
  const svg = box.querySelector("svg");
  if (!box.classList.contains("fit") || !svg) return;
  event.stopPropagation();  // this tap enlarges; the next one selects
  event.preventDefault();
  const shown = svg.getBoundingClientRect();
  const x = (event.clientX - shown.left) / shown.width;
  const y = (event.clientY - shown.top) / shown.height;
  setFit(false);
  box.scrollLeft = x * box.scrollWidth - box.clientWidth / 2;
  box.scrollTop = y * box.scrollHeight - box.clientHeight / 2;
}

function showGraph(svg) {
  const box = $("graph");
  box.replaceChildren(svg);
  if (svg.dataset.wired) return;  // a frame shown before has its clicks
  svg.dataset.wired = "yes";
  const leafOf = new Map(state.graph.leaves.map((leaf) => [leaf.node, leaf.name]));
  for (const node of svg.querySelectorAll("g.node")) {
    const name = titleOf(node);
    if (leafOf.has(name)) {
      node.classList.add("clickable");
      node.dataset.leaf = leafOf.get(name);
      node.addEventListener("click", guarded(() => explain(leafOf.get(name))));
    } else if (/^o\d+$/.test(name)) {
      node.classList.add("clickable");
      node.addEventListener("click", guarded(() => explainNode(name, null)));
    }
  }
  for (const edge of svg.querySelectorAll("g.edge")) {
    const match = /^(v\d+)->(o\d+)$/.exec(titleOf(edge)) || /^(o\d+)->(v\d+)$/.exec(titleOf(edge));
    if (!match) continue;
    const [opNode, input] = match[1].startsWith("o") ? [match[1], null] : [match[2], match[1]];
    // A wide, invisible copy of the arrow's line, so a finger or a mouse can hit it.
    const line = edge.querySelector("path");
    if (line) {
      const target = line.cloneNode(false);
      target.setAttribute("class", "hit");
      edge.appendChild(target);
    }
    edge.classList.add("clickable");
    edge.addEventListener("click", guarded(() => explainNode(opNode, input)));
  }
}

function showSummary(graph) {
  const summary = $("summary");
  summary.replaceChildren();
  const line = document.createElement("p");
  const label = document.createElement("span");
  label.id = "output-label";
  label.textContent = graph.output.label;  // user text: never as HTML
  const value = document.createElement("strong");
  value.id = "output-value";
  value.dataset.value = graph.output.data;
  value.textContent = number(graph.output.data);
  line.append(label, " = ", value);
  const table = document.createElement("table");
  table.createTHead().insertRow().append(
    ...["input", "data", "grad"].map((text) => {
      const th = document.createElement("th");
      th.textContent = text;
      return th;
    }));
  const body = table.createTBody();
  for (const leaf of graph.leaves) {
    const row = body.insertRow();
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.leaf = leaf.name;
    button.textContent = leaf.name;
    button.addEventListener("click", guarded(() => explain(leaf.name)));
    row.insertCell().append(button);
    cell(row, number(leaf.data), "number");
    const grad = cell(row, number(leaf.grad), "number");
    grad.dataset.grad = leaf.name;
    grad.dataset.value = leaf.grad;
  }
  summary.append(line, table);
  const network = graph.network;
  $("network-panel").hidden = !network;
  if (network) {
    $("e-total").textContent = number(graph.output.data);
    $("e-total").dataset.value = graph.output.data;
    $("step-count").textContent = network.step;
    $("shown-lr").textContent = network.lr;
    drawChart();
  }
}

function drawChart() {
  const chart = $("error-chart");
  const values = state.errors;
  const svg = "http://www.w3.org/2000/svg";
  chart.replaceChildren();
  const text = (x, y, content, anchor) => {
    const t = document.createElementNS(svg, "text");
    for (const [k, v] of Object.entries({ x, y, "font-size": 11, fill: "#444", "text-anchor": anchor })) {
      t.setAttribute(k, v);
    }
    t.textContent = content;
    chart.append(t);
  };
  if (values.length < 2) {
    text(8, 48, "train to see E_total fall", "start");
    return;
  }
  const width = 320, height = 90, pad = 6;
  const top = Math.max(...values), bottom = Math.min(...values);
  const x = (i) => pad + (i * (width - 2 * pad)) / (values.length - 1);
  const y = (v) => pad + ((top - v) * (height - 2 * pad)) / (top - bottom || 1);
  const line = document.createElementNS(svg, "polyline");
  line.setAttribute("points", values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#d62728");
  line.setAttribute("stroke-width", "2");
  chart.append(line);
  text(width - pad, 14, `${number(top, 4)} → ${number(values[values.length - 1], 4)}`, "end");
}

// ---- Stepping through the forward and backward passes -------------------------------------

function loadFrames(spec) {
  if (state.framesPromise === null) {
    const started = performance.now();
    const promise = request("frames", { spec }, "Building the backward frames").then((answer) => {
      const frames = answer.frames.map((frame) => ({ ...frame, element: null }));
      if (state.spec === spec) {
        state.frames = frames;
        timings.framesComputed = performance.now() - started;
      }
      return frames;
    });
    promise.catch(() => { if (state.framesPromise === promise) state.framesPromise = null; });
    state.framesPromise = promise;
  }
  return state.framesPromise;
}

function loadForward(spec) {
  if (state.forwardPromise === null) {
    const promise = request("forward", { spec }, "Listing the forward steps").then((answer) => {
      if (state.spec === spec) state.forward = answer.steps;
      return answer.steps;
    });
    promise.catch(() => { if (state.forwardPromise === promise) state.forwardPromise = null; });
    state.forwardPromise = promise;
  }
  return state.forwardPromise;
}

// While the learner reads the graph, the worker builds the frames: the first step is instant.
// It starts once the graph is painted, so the two do not compete for the processor.
function prepareFrames(spec) {
  requestAnimationFrame(() => setTimeout(() => {
    if (state.spec !== spec) return;
    loadFrames(spec).catch(() => {});  // the step itself will show the message
  }, 0));
}

function frameElement(frame) {
  if (frame.element === null) frame.element = parseSvg(frame.svg);
  return frame.element;
}

async function goToFrame(index) {
  const spec = state.spec;
  if (spec === null) return;
  const started = performance.now();
  const steps = state.pass === "forward" ? await loadForward(spec) : await loadFrames(spec);
  if (state.spec !== spec) return;  // another graph was drawn meanwhile
  index = Math.min(index, steps.length - 1);
  state.frameIndex = index < 0 ? -1 : index;
  if (state.frameIndex === -1) {
    showGraph(state.graphElement);
    markForward(null);
    $("frame-title").textContent = "The graph after backward(): every grad is final.";
    $("rule-panel").hidden = true;
  } else if (state.pass === "forward") {
    const step = steps[state.frameIndex];
    showGraph(state.graphElement);
    markForward(step);
    $("frame-title").textContent = step.title + " (grads come later, from backward())";
    showRule(step.rule, `Forward: ${step.rule.out} is computed`, { forward: true });
    scrollToNode(step.node);
  } else {
    const frame = steps[state.frameIndex];
    showGraph(frameElement(frame));
    $("frame-title").textContent = frame.title;
    showRule(frame.rule, `Backward: ${frame.rule.out} passes its grad to its inputs`, {});
    scrollToNode(frame.node);
  }
  timings.lastFrame = performance.now() - started;
  timings.frames.push(timings.lastFrame);
  updateStepper();
  showTimings();
  writeHash();
}

// Forward stepping on the final graph: what is not computed yet is faded, this step outlined.
function markForward(step) {
  const done = step ? new Set(step.done) : null;
  const current = step ? new Set([step.node, "v" + step.node.slice(1)]) : new Set();
  for (const node of $("graph").querySelectorAll("g.node")) {
    const name = titleOf(node);
    node.classList.toggle("pending", done !== null && !done.has(name));
    node.classList.toggle("current", current.has(name));
  }
  for (const edge of $("graph").querySelectorAll("g.edge")) {
    const head = titleOf(edge).split("->")[1];
    edge.classList.toggle("pending", done !== null && !done.has(head));
  }
}

// Centres the step's node in the graph's box; the page itself does not move.
function scrollToNode(name) {
  const box = $("graph");
  for (const node of box.querySelectorAll("g.node")) {
    if (titleOf(node) !== name) continue;
    const at = node.getBoundingClientRect();
    const view = box.getBoundingClientRect();
    box.scrollLeft += at.left + at.width / 2 - (view.left + view.width / 2);
    box.scrollTop += at.top + at.height / 2 - (view.top + view.height / 2);
  }
}

function updateStepper() {
  const at = state.frameIndex;
  const list = state.pass === "forward" ? state.forward : state.frames;
  const count = list ? list.length : Infinity;
  const ready = state.spec !== null;
  $("first").disabled = !ready || at === 0;
  $("prev").disabled = !ready || at <= 0;
  $("next").disabled = !ready || at >= count - 1;
  $("final").disabled = !ready || at === -1;
  $("check").disabled = !ready;
}

function choosePass(pass) {
  state.pass = pass;
  for (const input of document.querySelectorAll('input[name="pass"]')) {
    input.checked = input.value === pass;
  }
  state.frameIndex = -1;
  updateStepper();
}

// ---- The rule of a step, an op circle or an arrow -----------------------------------------

function showRule(rule, heading, { forward = false, input = null } = {}) {
  $("rule-title").textContent = heading;
  $("rule-forward").textContent = rule.forward;
  $("rule-where").textContent = "where " + rule.where;
  const list = $("rule-derivatives");
  list.replaceChildren();
  if (!forward) {
    for (const derivative of rule.derivatives) {
      const item = document.createElement("li");
      item.className = "rule-derivative";
      item.dataset.local = derivative.local;
      item.dataset.passed = derivative.passed;
      if (input !== null && rule.inputs && rule.inputs[derivative.position] === input) {
        item.classList.add("chosen");
      }
      for (const text of [derivative.symbols, derivative.numbers, derivative.chain].filter(Boolean)) {
        const code = document.createElement("code");
        code.textContent = text;
        item.append(code);
      }
      list.append(item);
    }
  }
  $("rule-panel").hidden = false;
}

async function explainNode(opNode, input) {
  const rule = await request("rule", { spec: state.spec, node: opNode }, "Reading the op's rule");
  showRule(rule, `The ${rule.op} op that computes ${rule.out}`, { input });
}

// ---- Explain: the chain rule from one input --------------------------------------------

async function explain(name) {
  const answer = await request("explain", { spec: state.spec, name }, "Writing out the chain rule");
  $("explain-wrt").textContent = name;
  $("explain-formula").textContent = answer.formula;
  const body = $("explain-paths").querySelector("tbody");
  body.replaceChildren();
  for (const path of answer.paths) {
    const row = body.insertRow();
    cell(row, path.stops.join(" → "), "path");
    cell(row, path.factors.map((f) => f.name).join(" · "), "factors");
    cell(row, path.factors.map((f) => short(f.value)).join(" × "), "factors");
    const product = cell(row, number(path.product), "number");
    product.dataset.value = path.product;
  }
  $("explain-total").textContent = number(answer.total);
  $("explain-total").dataset.value = answer.total;
  $("explain-grad").textContent = number(answer.grad);
  $("explain-panel").hidden = false;
  const onPath = new Set(answer.paths.flatMap((path) => path.dot_nodes));
  for (const node of $("graph").querySelectorAll("g.node")) {
    node.classList.toggle("on-path", onPath.has(titleOf(node)));
  }
  $("explain-panel").scrollIntoView({ block: "nearest" });
}

// ---- Check numerically ------------------------------------------------------------------

async function checkNumerically() {
  const answer = await request("check", { spec: state.spec }, "Checking with central differences");
  const body = $("check-table").querySelector("tbody");
  body.replaceChildren();
  for (const row of answer.rows) {
    const tr = body.insertRow();
    cell(tr, row.name);
    for (const key of ["backward", "central", "difference"]) {
      const td = cell(tr, key === "difference" ? short(row[key]) : number(row[key]), "number");
      td.dataset[key] = row[key];
    }
  }
  $("check-verdict").textContent = answer.agrees
    ? `Every gradient from backward() agrees with its central difference (gradcheck passes).`
    : `gradcheck finds a gradient that disagrees with its central difference.`;
  $("check-verdict").dataset.agrees = answer.agrees;
  $("check-formula").textContent = "central difference: " + answer.formula;
  $("check-result").hidden = false;
}

// ---- The 2-2-2 network --------------------------------------------------------------------

function learningRate() {
  const text = $("lr").value.trim();
  const rate = Number(text);
  if (text === "" || !Number.isFinite(rate)) {
    throw new PageError(`the learning rate must be a number such as 0.5; received "${capped(text)}"`);
  }
  return rate;
}

async function loadPreset() {
  const spec = (await request("preset", {}, "Loading the network")).spec;
  $("lr").value = spec.lr;
  state.errors = [];
  await show(spec);
  state.errors = [state.graph.output.data];
  drawChart();
}

async function trainSteps(steps) {
  if (!state.spec || state.spec.kind !== "network") await loadPreset();
  const answer = await request(
    "train", { spec: state.spec, steps, lr: learningRate() }, `Training ${steps} step(s)`);
  const errors = state.errors.length ? state.errors : [state.graph.output.data];
  await show(answer.spec);
  state.errors = errors.concat(answer.errors);
  drawChart();
}

// ---- The address (hash) holds the state ---------------------------------------------------

function writeHash() {
  const spec = state.spec;
  const params = new URLSearchParams();
  if (spec.kind === "expression") {
    params.set("expr", spec.expression);
    params.set("values", spec.values);
  } else {
    params.set("weights", spec.weights.join(","));  // JS prints the shortest exact form
    params.set("lr", spec.lr);
    params.set("step", spec.step);
  }
  if (state.frameIndex >= 0) {
    params.set("frame", state.frameIndex + 1);
    if (state.pass === "forward") params.set("pass", "forward");
  }
  state.writtenHash = "#" + params.toString();
  history.replaceState(null, "", state.writtenHash);
}

// An address too long to read is dropped at once, before anything else runs: the browser
// handles a huge address slowly, and the page never reads one.
function dropLongAddress() {
  const length = location.hash.length - 1;
  if (length <= MAX_ADDRESS) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return new AddressError(`The address held ${length} characters of state; the page reads ` +
    `at most ${MAX_ADDRESS}, so it shows the default expression instead.`);
}

// The state a hash describes, or null for an empty hash; bad numbers are left to Python.
function stateFromHash(hash) {
  const text = hash.replace(/^#/, "");
  if (text.length > MAX_ADDRESS) {
    throw new AddressError(`The address holds ${text.length} characters of state; the page reads ` +
      `at most ${MAX_ADDRESS}.`);
  }
  const params = new URLSearchParams(text);
  const frame = Number(params.get("frame"));
  const where = {
    frame: Number.isInteger(frame) && frame >= 1 ? frame : 0,
    pass: params.get("pass") === "forward" ? "forward" : "backward",
  };
  if (params.has("expr")) {
    return { ...where, spec: { kind: "expression", expression: params.get("expr"),
                               values: params.get("values") || "" } };
  }
  if (params.has("weights")) {
    const weights = params.get("weights").split(",").map((w) => (w.trim() === "" ? w : Number(w)));
    return { ...where, spec: { kind: "network", weights, lr: Number(params.get("lr") || 0.5),
                               step: Number(params.get("step") || 0) } };
  }
  if (text !== "") throw new AddressError(`The page cannot read the state in its address "${capped(text)}".`);
  return null;
}

async function restore() {
  const wanted = stateFromHash(location.hash);
  if (wanted === null) return false;
  const spec = wanted.spec;
  if (spec.kind === "expression") {
    $("expression").value = spec.expression;
    $("values").value = spec.values;
  } else {
    $("lr").value = spec.lr;
    state.errors = [];
  }
  await show(spec);
  if (spec.kind === "network") {
    state.errors = [state.graph.output.data];
    drawChart();
  }
  if (wanted.frame >= 1) {
    choosePass(wanted.pass);
    await goToFrame(wanted.frame - 1);
  }
  return true;
}

function showTimings() {
  const seconds = (ms) => (ms === null ? "–" : (ms / 1000).toFixed(2) + " s");
  let text = `First graph ${seconds(timings.firstGraph)} after opening ` +
    `(Python and Graphviz ready ${seconds(timings.pythonReady)}).`;
  if (timings.lastFrame !== null && timings.framesComputed !== null) {
    text += ` Backward frames built in ${timings.framesComputed.toFixed(0)} ms;` +
      ` last step shown in ${timings.lastFrame.toFixed(0)} ms.`;
  }
  $("timings").textContent = text;
}

// ---- Start --------------------------------------------------------------------------------

async function drawExpression() {
  await show({ kind: "expression", expression: $("expression").value, values: $("values").value });
}

function onKey(event) {
  const target = event.target;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement ||
      target instanceof HTMLTextAreaElement) return;
  const moves = {
    ArrowRight: () => state.frameIndex + 1,
    ArrowLeft: () => state.frameIndex - 1,
    Home: () => 0,
    End: () => -1,
  };
  if (!(event.key in moves) || state.spec === null) return;
  const to = moves[event.key]();
  if (event.key === "ArrowLeft" && state.frameIndex <= 0) return;
  guarded(() => goToFrame(to))(event);
}

function wire() {
  $("expression-form").addEventListener("submit", guarded(drawExpression));
  $("preset").addEventListener("click", guarded(loadPreset));
  $("network-form").addEventListener("submit", guarded(() => trainSteps(1)));
  $("train10").addEventListener("click", guarded(() => trainSteps(10)));
  $("next").addEventListener("click", guarded(() => goToFrame(state.frameIndex + 1)));
  $("prev").addEventListener("click", guarded(() => goToFrame(state.frameIndex - 1)));
  $("first").addEventListener("click", guarded(() => goToFrame(0)));
  $("final").addEventListener("click", guarded(() => goToFrame(-1)));
  $("check").addEventListener("click", guarded(checkNumerically));
  $("cancel").addEventListener("click", () => {
    python.restart("Cancelled; Python is restarting, and the page keeps what it shows.");
  });
  for (const input of document.querySelectorAll('input[name="pass"]')) {
    input.addEventListener("change", guarded(async () => {
      choosePass(input.value);
      await goToFrame(-1);
    }));
  }
  $("examples").addEventListener("change", guarded(async () => {
    const choice = $("examples").value;
    $("examples").value = "";
    if (choice === "network") await loadPreset();
    else if (choice) location.hash = choice;  // the hashchange handler draws it
  }));
  $("fit").addEventListener("change", () => setFit($("fit").checked));
  $("graph").addEventListener("click", enlargeAt, true);
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", guarded(async () => {
    if (location.hash !== state.writtenHash) await restore();
  }));
}

async function start() {
  const addressProblem = dropLongAddress();
  window.playground.request = request;  // for the curious, in the browser's console
  // The form's fields take no more than Python reads (the package's limits, from config.js).
  $("expression").maxLength = config.limits.expression;
  $("values").maxLength = config.limits.values;
  wire();
  python.start();
  let versions;
  try {
    versions = await python.ready;
  } catch (error) {
    $("status").textContent = "The playground could not start.";
    progressText = "";
    updateBusy();
    showError(error.message);
    return;
  }
  timings.pythonReady = timings.vizReady = performance.now();
  progressText = "";
  updateBusy();
  $("version").textContent = versions.micrograd;
  $("pyodide-version").textContent = versions.pyodide;
  $("status").textContent = "Ready: type an expression, pick an example, or load the 2-2-2 network.";
  for (const id of ["draw", "preset", "train", "train10", "examples"]) $(id).disabled = false;
  // A bad expression in the address stays in the form with its message, to be fixed there; an
  // address the page cannot read at all gives its message and the default expression.
  await guarded(async () => {
    let restored;
    try {
      if (addressProblem) throw addressProblem;
      restored = await restore();
    } catch (error) {
      if (!(error instanceof AddressError)) throw error;
      await drawExpression();
      throw error;
    }
    if (!restored) await drawExpression();
  })();
  window.playground.ready = true;
}

start();
