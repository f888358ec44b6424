// The main thread's side of worker.js, shared by the playground (playground.js) and the lesson
// (lesson.js): start the worker, send it requests and settle their answers, and end it when a
// request runs too long or the learner cancels, starting a fresh one. It draws nothing: each page
// says what to show through the callbacks it passes in.
"use strict";

// An error whose message is written for the learner (the pages show it as it is).
class PageError extends Error {}
// The package's own message for a request it refused (bad input, a limit).
class PythonError extends PageError {}

class PythonWorker {
  // config: the page's PLAYGROUND_CONFIG. on: {progress(text), change(), restarted(), back()},
  // each optional: a progress line from the worker, a request begun or settled, a restart
  // begun, the fresh worker ready after a restart.
  constructor(config, on = {}) {
    this.config = config;
    this.on = on;
    this.worker = null;
    this.ready = null;       // a promise of the versions, once Python and Graphviz are loaded
    this.restarting = false; // the worker was ended and a fresh one is loading
    this.pending = new Map(); // id -> {resolve, reject, timer, what, started}
    this.nextId = 1;
    this.restarts = 0;
  }

  start() {
    try {
      this.worker = new Worker("worker.js", { type: "module" });
    } catch (error) {
      this.ready = Promise.reject(new PageError(
        "This page runs Python in a Web Worker, which the browser refused here. " + this.config.help));
      this.ready.catch(() => {});
      return;
    }
    const own = this.worker;
    this.ready = new Promise((resolve, reject) => {
      own.onmessage = (event) => {
        const message = event.data;
        if (message.progress !== undefined) this.notify("progress", message.progress);
        else if (message.ready) resolve(message.ready);
        else if (message.failed !== undefined) {
          reject(new PageError(`Python or Graphviz did not load (${message.failed}). ${this.config.help}`));
        } else this.settle(message.id, message.answer);
      };
      own.onerror = (event) => {
        event.preventDefault();
        reject(new PageError(`The worker that runs Python could not start. ${this.config.help}`));
      };
    });
    this.ready.catch(() => {});
    if (this.restarting) this.ready.then(() => { this.restarting = false; this.notify("back"); }, () => {});
    this.worker.postMessage({ start: this.config });
  }

  // One request to the worker; `what` names it (the busy line, timeout messages). After
  // `timeoutMs` the worker is ended and `timeoutMessage` rejects every pending request.
  async request(call, args, what, timeoutMs, timeoutMessage) {
    await this.ready;
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => this.restart(timeoutMessage), timeoutMs);
      this.pending.set(id, { resolve, reject, timer, what, started: performance.now() });
      this.notify("change");
      this.worker.postMessage({ id, call, args });
    });
  }

  settle(id, answer) {
    const job = this.pending.get(id);
    if (!job) return;  // answered after a restart: nobody waits for it
    this.pending.delete(id);
    clearTimeout(job.timer);
    this.notify("change");
    if (answer.ok) job.resolve(answer);
    else job.reject(new PythonError(answer.error));
  }

  // Ends the worker (and whatever it was computing), rejects what waited with `message`, and
  // starts a fresh one; the page keeps what it shows.
  restart(message) {
    this.worker.terminate();
    this.restarts += 1;
    const jobs = [...this.pending.values()];
    this.pending.clear();
    this.restarting = true;
    this.start();
    for (const job of jobs) {
      clearTimeout(job.timer);
      job.reject(new PageError(message));
    }
    this.notify("restarted");
  }

  // The request running longest, or null.
  oldest() {
    let found = null;
    for (const job of this.pending.values()) if (!found || job.started < found.started) found = job;
    return found;
  }

  notify(name, ...args) {
    if (this.on[name]) this.on[name](...args);
  }
}
