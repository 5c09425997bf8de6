// The uploader: takes over the upload form when JavaScript runs. It shows each file as a row
// (progress, Cancel, the outcome in words) and leaves the protocol to UploadClient.uploadFile
// (upload-client.js); once a file is settled the list refreshes through htmx ("uploads-changed").
// Without JavaScript the form still POSTs one file to S3 directly.
(function () {
  "use strict";

  const form = document.querySelector("form[data-uploader]");
  if (!form || !window.UploadClient) return;

  const input = form.querySelector("input[type=file]");
  const transfers = document.getElementById("transfers");
  const template = document.getElementById("transfer-template");
  const announcer = document.getElementById("announcer");

  document.documentElement.classList.add("js");
  input.multiple = true;
  input.required = false;

  // The same token htmx sends: base.html puts it in <body hx-headers='{"X-CSRFToken": …}'>.
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (_) {
      return "";
    }
  }

  // Read at each upload, so a test can shorten them: data-retry-delays="1000,2000,4000" (ms).
  function retryDelays() {
    return (form.dataset.retryDelays || "").split(",").filter(Boolean).map(Number);
  }

  function announce(text) {
    announcer.textContent = text;
  }

  function formatBytes(bytes) {
    const units = ["bytes", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  }

  function transferRow(file) {
    const item = template.content.firstElementChild.cloneNode(true);
    item.querySelector(".transfer-name").textContent = file.name;
    item.querySelector("progress").setAttribute("aria-label", `Upload of ${file.name}`);
    transfers.prepend(item);
    const row = {
      item,
      progress: item.querySelector("progress"),
      status: item.querySelector(".transfer-status"),
      cancel: item.querySelector(".transfer-cancel"),
      show(text, state) {
        row.status.textContent = text;
        if (state) item.dataset.state = state;
      },
      finish(text, state) {
        row.show(text, state);
        row.cancel.remove();
        announce(`${file.name}: ${text}`);
      },
    };
    return row;
  }

  // What each UploadError reason leaves the row showing; any other is "failed".
  const STATE = { cancelled: "cancelled", unchecked: "pending", send_failed: "failed" };

  // Multipart uploads on their way, so that choosing the same file after a reload resumes it:
  // [{id, name, size, lastModified}] in localStorage. The server decides whether it still can.
  const SAVED = "uploads.multipart";
  const sameFile = (entry, file) =>
    entry.name === file.name && entry.size === file.size && entry.lastModified === file.lastModified;
  function saved() {
    try {
      return JSON.parse(localStorage.getItem(SAVED) || "[]");
    } catch (_) {
      return [];
    }
  }
  function remember(file, id) {
    const entries = saved().filter((entry) => !sameFile(entry, file));
    entries.push({ id, name: file.name, size: file.size, lastModified: file.lastModified });
    localStorage.setItem(SAVED, JSON.stringify(entries.slice(-20)));
  }
  function forgetFile(file) {
    localStorage.setItem(SAVED, JSON.stringify(saved().filter((entry) => !sameFile(entry, file))));
  }

  async function upload(file) {
    const row = transferRow(file);
    const controller = new AbortController();
    row.cancel.addEventListener("click", () => controller.abort(), { once: true });
    const maxSize = Number(form.dataset.maxSize);
    let announced = 0;
    let resumable = false; // a broken connection leaves a multipart upload to resume
    try {
      if (file.size > maxSize) throw new Error(`The file is ${formatBytes(file.size)}; at most ${formatBytes(maxSize)} are allowed.`);
      if (file.size === 0) throw new Error("The file is empty.");
      const done = await UploadClient.uploadFile(file, {
        apiUrl: form.dataset.apiUrl,
        csrfToken: csrfToken(),
        signal: controller.signal,
        retryDelays: retryDelays(),
        resumeId: saved().find((entry) => sameFile(entry, file))?.id,
        onStarted(direct) {
          row.item.dataset.uploadId = direct.id;
          if (direct.method === "multipart") {
            resumable = true;
            remember(file, direct.id);
          } else {
            forgetFile(file);
          }
        },
        onStage(stage, detail) {
          if (stage === "signing") row.show("Preparing…");
          if (stage === "resuming") row.show("Resuming…");
          if (stage === "checking") {
            row.cancel.remove(); // the store has the file: from here on the server decides
            row.show("Checking…", "checking");
          }
          if (stage === "retrying") row.show(`Checking… the server did not answer; trying again in ${detail.delay / 1000} s.`);
        },
        onProgress(sent, total) {
          const percent = Math.min(100, Math.round((sent / total) * 100));
          row.item.dataset.sent = String(sent); // what the transfer reported, for the page's tests
          row.progress.value = percent;
          row.show(`${percent}% · ${formatBytes(sent)} of ${formatBytes(total)}`, "sending");
          if (percent >= announced + 25) {
            announced = percent - (percent % 25);
            announce(`${file.name}: ${announced}%`);
          }
        },
      });
      row.progress.value = 100;
      row.finish(`Uploaded · ${formatBytes(done.size ?? file.size)}`, "done");
      forgetFile(file);
    } catch (error) {
      if (!(resumable && (error.reason === "send_failed" || error.reason === "unchecked"))) forgetFile(file);
      row.finish(error.message, STATE[error.reason] || "failed");
    } finally {
      if (window.htmx) htmx.trigger(document.body, "uploads-changed");
    }
  }

  function uploadAll(files) {
    return Promise.all(Array.from(files).map(upload));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    uploadAll(input.files);
    input.value = "";
  });
  input.addEventListener("change", () => {
    if (!input.files.length) return;
    uploadAll(input.files);
    input.value = "";
  });

  // Drop files anywhere on the page: left to the browser, a drop outside the form would navigate
  // away to the file. The form lights up while files are dragged over the page.
  const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  let depth = 0; // dragenter/dragleave fire for every element crossed; count to know when it left
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    form.classList.add("dragging");
  });
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) form.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    form.classList.remove("dragging");
    if (event.dataTransfer.files.length) uploadAll(event.dataTransfer.files);
  });
})();
