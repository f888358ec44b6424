// The playground page: loads Pyodide and viz.js, asks the package's own Python code
// (micrograd/playground/glue.py) for numbers and DOT text, and draws them. All maths is in
// Python; this file only moves JSON between the form, Python and Graphviz.
"use strict";

const config = window.PLAYGROUND_CONFIG;
const $ = (id) => document.getElementById(id);

const state = {
  spec: null,          // what is drawn: see glue.py's docstring
  graph: null,         // glue's answer for the spec: DOT, output, leaves
  graphElement: null,  // its drawing, the final graph
  frames: null,        // backward frames of the spec, fetched on the first step
  frameIndex: -1,      // -1: the final graph; k: frame k
  errors: [],          // E_total per training step, for the chart
  writtenHash: "",
};
// Milliseconds since the page was opened, and durations; the browser tests read them.
const timings = {
  pyodideLoaded: null, pythonReady: null, vizReady: null, firstGraph: null,
  framesComputed: null, lastFrame: null, frames: [], renders: [],
};
let python = null;    // glue.handle, a Python function
let viz = null;       // the viz.js instance
window.playground = { state, timings, ready: false };

// ---- Loading -------------------------------------------------------------------------------

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(script);
  });
}

async function loadPython() {
  await loadScript(config.pyodide + "pyodide.js");
  const pyodide = await loadPyodide({ indexURL: config.pyodide });
  timings.pyodideLoaded = performance.now();
  $("status").textContent = "Python is running; importing micrograd…";
  // The package's sources come in micrograd-package.js, a plain script, so file:// pages work.
  const root = "/micrograd_src/";
  for (const [path, text] of Object.entries(window.MICROGRAD_FILES)) {
    pyodide.FS.mkdirTree(root + path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(root + path, text);
  }
  pyodide.runPython(`import sys; sys.path.insert(0, "${root}")`);
  const glue = pyodide.pyimport("micrograd.playground.glue");
  $("version").textContent = pyodide.runPython("import micrograd; micrograd.__version__");
  $("pyodide-version").textContent = pyodide.version;
  timings.pythonReady = performance.now();
  window.playground.pyodide = pyodide;  // for the curious, in the browser's console
  return glue.handle;
}

async function loadViz() {
  await loadScript(config.viz);
  const instance = await Viz.instance();
  timings.vizReady = performance.now();
  return instance;
}

// ---- Talking to Python and Graphviz --------------------------------------------------------

class PageError extends Error {}

function ask(call, args) {
  const answer = JSON.parse(python(JSON.stringify({ call, args })));
  if (!answer.ok) throw new PageError(answer.error);
  return answer;
}

function render(dot) {
  try {
    return viz.renderSVGElement(dot);
  } catch (error) {
    throw new PageError(`Graphviz could not draw the graph: ${error.message}`);
  }
}

// ---- Messages -----------------------------------------------------------------------------

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

// Runs an action from a button or form, showing any bad input as a message in the page.
function guarded(action) {
  return (event) => {
    if (event) event.preventDefault();
    if (!python) return;
    try {
      clearError();
      action();
    } catch (error) {
      if (!(error instanceof PageError)) console.error(error);
      showError(error.message);
    }
  };
}

function number(x, digits = 9) {
  return typeof x === "number" ? x.toFixed(digits) : String(x);  // "inf", "nan" from Python
}

// Six significant digits, without trailing zeros: for the factors of a product.
function short(x) {
  return typeof x === "number" ? String(Number(x.toPrecision(6))) : String(x);
}

// ---- Drawing a spec -----------------------------------------------------------------------

function show(spec) {
  const graph = ask("graph", { spec });
  state.spec = spec;
  state.graph = graph;
  state.frames = null;
  state.frameIndex = -1;
  state.graphElement = render(graph.dot);
  showGraph(state.graphElement);
  showSummary(graph);
  $("explain-panel").hidden = true;
  $("frame-title").textContent =
    "The graph after backward(): click a blue or orange leaf for its chain rule.";
  updateStepper();
  writeHash();
  prepareFrames(spec);
  if (timings.firstGraph === null) {
    timings.firstGraph = performance.now();
    showTimings();
  }
}

function showGraph(svg) {
  const box = $("graph");
  box.replaceChildren(svg);
  const leafOf = new Map(state.graph.leaves.map((leaf) => [leaf.node, leaf.name]));
  for (const node of svg.querySelectorAll("g.node")) {
    const name = leafOf.get(node.querySelector("title").textContent);
    if (name === undefined || node.dataset.leaf) continue;  // a frame shown before has them
    node.classList.add("clickable");
    node.dataset.leaf = name;
    node.addEventListener("click", guarded(() => explain(name)));
  }
}

function showSummary(graph) {
  const rows = graph.leaves.map((leaf) =>
    `<tr><td><button type="button" data-leaf="${leaf.name}">${leaf.name}</button></td>` +
    `<td class="number">${number(leaf.data)}</td>` +
    `<td class="number" data-grad="${leaf.name}" data-value="${leaf.grad}">${number(leaf.grad)}</td></tr>`
  );
  $("summary").innerHTML =
    `<p><span id="output-label"></span> = <strong id="output-value" data-value="${graph.output.data}">` +
    `${number(graph.output.data)}</strong></p>` +
    `<table><thead><tr><th>input</th><th>data</th><th>grad</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`;
  $("output-label").textContent = graph.output.label;  // user text: never as HTML
  for (const button of $("summary").querySelectorAll("button[data-leaf]")) {
    button.addEventListener("click", guarded(() => explain(button.dataset.leaf)));
  }
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
  if (values.length < 2) {
    chart.innerHTML = `<text x="8" y="48" font-size="12" fill="#666">train to see E_total fall</text>`;
    return;
  }
  const width = 320, height = 90, pad = 6;
  const top = Math.max(...values), bottom = Math.min(...values);
  const x = (i) => pad + (i * (width - 2 * pad)) / (values.length - 1);
  const y = (v) => pad + ((top - v) * (height - 2 * pad)) / (top - bottom || 1);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  chart.innerHTML =
    `<polyline points="${points}" fill="none" stroke="#d62728" stroke-width="2"/>` +
    `<text x="${width - pad}" y="14" font-size="11" text-anchor="end" fill="#444">` +
    `${number(top, 4)} → ${number(values[values.length - 1], 4)}</text>`;
}

// ---- Backward frames ----------------------------------------------------------------------

// glue.backward_frames asks for the graph laid out once ({layout_dot}), then answers with each
// frame as that SVG recoloured and relabelled, so no node moves from frame to frame.
function loadFrames() {
  const started = performance.now();
  let answer = ask("frames", { spec: state.spec });
  if (answer.layout_dot !== undefined) {
    const svg = viz.renderString(answer.layout_dot, { format: "svg" });
    answer = ask("frames", { spec: state.spec, svg });
  }
  state.frames = answer.frames.map((frame) => ({ ...frame, element: null }));
  timings.framesComputed = performance.now() - started;
}

// Once the page is idle, compute the frames and lay out the first, so the first step is instant.
function prepareFrames(spec) {
  const later = window.requestIdleCallback || ((f) => setTimeout(f, 200));
  later(() => {
    if (state.spec !== spec || state.frames !== null) return;  // moved on, or already there
    try {
      loadFrames();
      if (state.frames.length) frameElement(state.frames[0]);
    } catch (error) {
      state.frames = null;  // the step itself will show the message
    }
  });
}

function frameElement(frame) {
  if (frame.element === null) {
    if (frame.svg !== undefined) {
      frame.element = new DOMParser().parseFromString(frame.svg, "image/svg+xml").documentElement;
    } else {
      const started = performance.now();
      frame.element = render(frame.dot);
      timings.renders.push(performance.now() - started);
    }
  }
  return frame.element;
}

function goToFrame(index) {
  const started = performance.now();
  if (state.frames === null) loadFrames();
  const count = state.frames.length;
  if (index >= count) index = count - 1;
  if (index < 0) {
    state.frameIndex = -1;
    showGraph(state.graphElement);
    $("frame-title").textContent = "The graph after backward(): every grad is final.";
  } else {
    state.frameIndex = index;
    const frame = state.frames[index];
    showGraph(frameElement(frame));
    $("frame-title").textContent = frame.title;
    scrollToNode(frame.node);
  }
  timings.lastFrame = performance.now() - started;
  timings.frames.push(timings.lastFrame);
  updateStepper();
  showTimings();
  writeHash();
  // Lay out the next frame while the learner reads this one, so stepping on is instant.
  const next = state.frames[state.frameIndex + 1];
  if (next) setTimeout(() => { try { frameElement(next); } catch (error) { /* shown on the step */ } }, 0);
}

// Keeps the step's node in view when the graph is wider than the page.
function scrollToNode(name) {
  for (const node of $("graph").querySelectorAll("g.node")) {
    if (node.querySelector("title").textContent === name) {
      node.scrollIntoView({ block: "nearest", inline: "center" });
    }
  }
}

function updateStepper() {
  const at = state.frameIndex;
  const count = state.frames ? state.frames.length : Infinity;
  const ready = python !== null && state.spec !== null;
  $("first").disabled = !ready || at === 0;
  $("prev").disabled = !ready || at <= 0;
  $("next").disabled = !ready || at >= count - 1;
  $("final").disabled = !ready || at === -1;
}

// ---- Explain ------------------------------------------------------------------------------

function explain(name) {
  const answer = ask("explain", { spec: state.spec, name });
  $("explain-wrt").textContent = name;
  $("explain-formula").textContent = answer.formula;
  const body = $("explain-paths").querySelector("tbody");
  body.replaceChildren();
  for (const path of answer.paths) {
    const row = body.insertRow();
    row.insertCell().textContent = path.nodes.join(" → ");
    row.insertCell().textContent = path.local_grads.map(short).join(" × ");
    const product = row.insertCell();
    product.className = "number";
    product.textContent = number(path.product);
    product.dataset.value = path.product;
  }
  $("explain-total").textContent = number(answer.total);
  $("explain-total").dataset.value = answer.total;
  $("explain-grad").textContent = number(answer.grad);
  $("explain-panel").hidden = false;
  const onPath = new Set(answer.paths.flatMap((path) => path.dot_nodes));
  for (const node of $("graph").querySelectorAll("g.node")) {
    node.classList.toggle("on-path", onPath.has(node.querySelector("title").textContent));
  }
}

// ---- The 2-2-2 network --------------------------------------------------------------------

function learningRate() {
  const text = $("lr").value.trim();
  const rate = Number(text);
  if (text === "" || !Number.isFinite(rate)) {
    throw new PageError(`the learning rate must be a number such as 0.5; received "${text}"`);
  }
  return rate;
}

function loadPreset() {
  const spec = ask("preset", {}).spec;
  $("lr").value = spec.lr;
  state.errors = [];
  show(spec);
  state.errors = [state.graph.output.data];
  drawChart();
}

function trainSteps(steps) {
  if (!state.spec || state.spec.kind !== "network") loadPreset();
  const answer = ask("train", { spec: state.spec, steps, lr: learningRate() });
  const errors = state.errors.length ? state.errors : [state.graph.output.data];
  show(answer.spec);
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
  if (state.frameIndex >= 0) params.set("frame", state.frameIndex + 1);
  state.writtenHash = "#" + params.toString();
  history.replaceState(null, "", state.writtenHash);
}

// The spec a hash describes, or null for an empty hash; bad numbers are left to Python to report.
// A shared link is user input: one longer than the package's limit is refused unread, and the
// rest is read in linear time (Python caps and parses each field again).
function specFromHash(hash) {
  if (hash.length > config.limits.address) {
    throw new PageError(`the address is ${hash.length} characters long; at most ` +
      `${config.limits.address} are read`);
  }
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  if (params.has("expr")) {
    return { kind: "expression", expression: params.get("expr"), values: params.get("values") || "" };
  }
  if (params.has("weights")) {
    const weights = params.get("weights").split(",").map((w) => (w.trim() === "" ? w : Number(w)));
    const step = Number(params.get("step") || 0);
    return { kind: "network", weights, lr: Number(params.get("lr") || 0.5),
             step: Number.isInteger(step) ? step : 0 };
  }
  if (hash.replace(/^#/, "") !== "") {
    const shown = hash.length > 80 ? hash.slice(0, 79) + "…" : hash;
    throw new PageError(`cannot read the address's state "${shown}"`);
  }
  return null;
}

function restore() {
  const spec = specFromHash(location.hash);
  // Read before show() rewrites the address.
  const frame = Number(new URLSearchParams(location.hash.replace(/^#/, "")).get("frame"));
  if (spec === null) return false;
  if (spec.kind === "expression") {
    $("expression").value = spec.expression;
    $("values").value = spec.values;
  } else {
    $("lr").value = spec.lr;
    state.errors = [];
  }
  show(spec);
  if (spec.kind === "network") {
    state.errors = [state.graph.output.data];
    drawChart();
  }
  if (Number.isInteger(frame) && frame >= 1) goToFrame(frame - 1);
  return true;
}

function showTimings() {
  const seconds = (ms) => (ms === null ? "–" : (ms / 1000).toFixed(2) + " s");
  let text = `First graph ${seconds(timings.firstGraph)} after opening ` +
    `(Python ready ${seconds(timings.pythonReady)}, Graphviz ${seconds(timings.vizReady)}).`;
  if (timings.lastFrame !== null) {
    text += ` Backward frames computed in ${timings.framesComputed.toFixed(0)} ms;` +
      ` last step shown in ${timings.lastFrame.toFixed(0)} ms.`;
  }
  $("timings").textContent = text;
}

// ---- Start --------------------------------------------------------------------------------

function drawExpression() {
  show({ kind: "expression", expression: $("expression").value, values: $("values").value });
}

async function start() {
  try {
    [python, viz] = await Promise.all([loadPython(), loadViz()]);
  } catch (error) {
    $("status").textContent = "The playground could not start.";
    showError(`${error.message}. ${config.help}`);
    return;
  }
  $("status").textContent = "Ready: type an expression, or load the 2-2-2 network.";
  $("expression").maxLength = config.limits.expression;
  $("values").maxLength = config.limits.values;
  for (const id of ["draw", "preset", "train", "train10"]) $(id).disabled = false;
  $("expression-form").addEventListener("submit", guarded(drawExpression));
  $("preset").addEventListener("click", guarded(loadPreset));
  $("network-form").addEventListener("submit", guarded(() => trainSteps(1)));
  $("train10").addEventListener("click", guarded(() => trainSteps(10)));
  $("next").addEventListener("click", guarded(() => goToFrame(state.frameIndex + 1)));
  $("prev").addEventListener("click", guarded(() => goToFrame(state.frameIndex - 1)));
  $("first").addEventListener("click", guarded(() => goToFrame(0)));
  $("final").addEventListener("click", guarded(() => goToFrame(-1)));
  $("fit").addEventListener("change", () => $("graph").classList.toggle("fit", $("fit").checked));
  window.addEventListener("hashchange", guarded(() => {
    if (location.hash !== state.writtenHash) restore();
  }));
  // A bad address leaves its text in the form and its message on the page, to be fixed there.
  guarded(() => { if (!restore()) drawExpression(); })();
  window.playground.ready = true;
}

start();
