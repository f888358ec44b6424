// The playground's worker: Python (Pyodide running the micrograd package) and Graphviz (viz.js)
// run here, off the page's main thread, so no computation can freeze the page. The page sends
// {id, call, args} and gets {id, answer}; while it works it may send {progress: "..."}.
// A request that takes too long is not stopped here: the page ends this whole worker and
// starts a fresh one. All maths is glue.py's; this file only moves JSON and DOT text.
let handle = null;  // glue.handle_page, a Python function
let viz = null;     // the viz.js instance

function progress(text) {
  self.postMessage({ progress: text });
}

// A module worker (Pyodide runs in no other kind): scripts come by import(), by full address.
const address = (relative) => new URL(relative, self.location.href).href;

// The bytes at `url`, refused unless their SHA-384 is the one the page was built with.
async function verified(url, expected) {
  const response = await fetch(address(url));
  if (!response.ok) throw new Error(`could not load ${url} (HTTP ${response.status})`);
  const bytes = await response.arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
  const found = "sha384-" + btoa(String.fromCharCode(...digest));
  if (found !== expected) {
    throw new Error(`${url} is not the file this page was built with (its SHA-384 differs)`);
  }
  return bytes;
}

async function start(config) {
  progress("Loading Python (Pyodide, about 13 MB) and Graphviz…");
  // Every file of Pyodide and viz.js is checked against its hash before use (Subresource
  // Integrity by hand: a worker's import() takes no integrity). The scripts and data this file
  // hands over are the checked bytes; Pyodide fetches its .asm files again, from the cache.
  const checked = new Map(await Promise.all(Object.entries(config.integrity || {}).map(
    async ([url, hash]) => [url, await verified(url, hash)])));
  const local = (url, type) => (checked.has(url)
    ? URL.createObjectURL(new Blob([checked.get(url)], { type }))
    : address(url));
  const [{ loadPyodide }] = await Promise.all([
    import(local(config.pyodide + "pyodide.mjs", "text/javascript")),
    import(local(config.viz, "text/javascript")),  // sets self.Viz
    import(address("micrograd-package.js")),  // sets self.MICROGRAD_FILES
  ]);
  const options = { indexURL: address(config.pyodide) };
  const lock = config.pyodide + "pyodide-lock.json";
  const stdlib = config.pyodide + "python_stdlib.zip";
  if (checked.has(lock)) options.lockFileURL = local(lock, "application/json");
  if (checked.has(stdlib)) options.stdLibURL = local(stdlib, "application/zip");
  const [pyodide, instance] = await Promise.all([loadPyodide(options), Viz.instance()]);
  viz = instance;
  progress("Python is running; importing micrograd…");
  // The package's sources come in micrograd-package.js: exactly this version of the library.
  const root = "/micrograd_src/";
  for (const [path, text] of Object.entries(self.MICROGRAD_FILES)) {
    pyodide.FS.mkdirTree(root + path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(root + path, text);
  }
  pyodide.runPython(`import sys; sys.path.insert(0, "${root}")`);
  handle = pyodide.pyimport("micrograd.playground.glue").handle_page;
  return {
    micrograd: pyodide.runPython("import micrograd; micrograd.__version__"),
    pyodide: pyodide.version,
    graphviz: viz.graphvizVersion,
  };
}

function ask(call, args) {
  return JSON.parse(handle(JSON.stringify({ call, args })));
}

function layOut(dot) {
  try {
    return { ok: true, svg: viz.renderString(dot, { format: "svg" }) };
  } catch (error) {
    return { ok: false, error: "Graphviz could not lay out the graph" };
  }
}

// A request as the page makes it; some take several steps between Python and Graphviz.
function answer(call, args) {
  if (call === "graph") {
    const graph = ask("graph", args);
    if (!graph.ok) return graph;
    progress("Laying out the graph with Graphviz…");
    const drawn = layOut(graph.dot);
    return drawn.ok ? { ...graph, svg: drawn.svg } : drawn;
  }
  if (call === "frames") {
    // Laid out once, then each frame is that SVG recoloured in Python: no node moves.
    progress("Building the backward frames: laying out the graph…");
    const first = ask("frames", args);
    if (!first.ok || first.layout_dot === undefined) return first;
    const drawn = layOut(first.layout_dot);
    if (!drawn.ok) return drawn;
    progress("Building the backward frames: colouring each step…");
    return ask("frames", { ...args, svg: drawn.svg });
  }
  return ask(call, args);
}

let started = null;

self.onmessage = async (event) => {
  const message = event.data;
  if (message.start) {
    try {
      started = start(message.start);
      self.postMessage({ ready: await started });
    } catch (error) {
      self.postMessage({ failed: String(error && error.message ? error.message : error) });
    }
    return;
  }
  await started;
  const begun = performance.now();
  let reply;
  try {
    reply = answer(message.call, message.args);
  } catch (error) {
    // Python errors are answered by glue.handle_page; this is Pyodide itself failing.
    reply = { ok: false, error: "the page's Python stopped working; reload the page" };
  }
  reply.workerMs = performance.now() - begun;
  self.postMessage({ id: message.id, answer: reply });
};
