// SHA-256 of the files being uploaded, computed in a Web Worker (hash-worker.js), so the page can
// declare a file's checksum (a file sent whole) or each part's (multipart) and the store or the
// server can refuse bytes altered on the way. Loaded by a <script> whose data-worker and data-lib
// name the worker and hash-wasm (static URLs, which change with every release).
//   UploadHashing.sha256(file)            -> Promise<base64 digest of the whole file>
//   UploadHashing.part(file, start, end)  -> Promise<base64 digest of that part>
// If hashing can't run (no Worker or WebAssembly, a blocked script), the promise rejects: the
// caller uploads without declaring a checksum, and the worker on the server still records one.
(function () {
  "use strict";

  const script = document.currentScript;
  const workerUrl = script?.dataset.worker;
  const libUrl = script?.dataset.lib;
  const available = Boolean(workerUrl && libUrl && window.Worker && window.WebAssembly);
  const jobs = new Map();
  let worker = null;
  let nextId = 0;

  function failAll(message) {
    for (const job of jobs.values()) job.reject(new Error(message));
    jobs.clear();
    worker = null;
  }

  function ensureWorker() {
    if (worker) return worker;
    worker = new Worker(workerUrl);
    worker.postMessage({ type: "init", lib: libUrl });
    worker.addEventListener("message", (event) => {
      const { id, type } = event.data;
      const job = jobs.get(id);
      if (!job) return;
      if (type === "done") {
        jobs.delete(id);
        job.resolve(event.data);
      } else if (type === "error") {
        jobs.delete(id);
        job.reject(new Error(event.data.message));
      }
    });
    worker.addEventListener("error", (event) => {
      event.preventDefault(); // reported to the uploads instead, which go on without a checksum
      failAll("The file could not be hashed.");
    });
    return worker;
  }

  // One job for the worker; resolve with its "done" message.
  function ask(message) {
    if (!available) return Promise.reject(new Error("Hashing is not available here."));
    return new Promise((resolve, reject) => {
      nextId += 1;
      jobs.set(nextId, { resolve, reject });
      ensureWorker().postMessage({ ...message, id: nextId });
    });
  }

  const sha256 = (file) => ask({ type: "hash", file }).then((done) => done.digest);
  const part = (file, start, end) => ask({ type: "part", file, start, end }).then((done) => done.digest);

  window.UploadHashing = { sha256, part, available };
})();
