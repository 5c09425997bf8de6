// The uploader: takes over the upload form when JavaScript runs. Each file goes straight to S3:
//   1. POST /api/uploads {filename, content_type, size}  -> a policy signed for exactly this file
//   2. POST the signed fields and the file to S3 (XHR, for progress and cancel)
//   3. POST /api/uploads/{id}/complete                   -> the server checks the object with S3
// then the list refreshes through htmx ("uploads-changed"). Without JavaScript the form still
// POSTs one file to S3 directly.
(function () {
  "use strict";

  const form = document.querySelector("form[data-uploader]");
  if (!form) return;

  const apiUrl = form.dataset.apiUrl;
  const maxSize = Number(form.dataset.maxSize);
  const input = form.querySelector("input[type=file]");
  const transfers = document.getElementById("transfers");
  const announcer = document.getElementById("announcer");

  document.documentElement.classList.add("js");
  input.multiple = true;
  input.required = false;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
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

  // Our API answers {"detail", "code"}; S3 answers XML with <Code> and <Message>.
  async function apiError(response) {
    try {
      const body = await response.json();
      if (body && body.detail) return body.detail;
    } catch (_) { /* not JSON */ }
    return `The server answered ${response.status}.`;
  }

  function s3Error(xhr) {
    const xml = xhr.responseXML || new DOMParser().parseFromString(xhr.responseText || "", "application/xml");
    const code = xml.querySelector("Code")?.textContent || "";
    const message = xml.querySelector("Message")?.textContent || "";
    if (code === "EntityTooLarge") return "The file is larger than allowed.";
    if (code === "EntityTooSmall") return "The file is empty.";
    if (/expired/i.test(message)) return "The upload permission expired; please try again.";
    if (code === "AccessDenied") return "Storage refused the file (it does not match what was signed).";
    return message ? `Storage refused the file: ${message}` : `Storage answered ${xhr.status}.`;
  }

  function api(url, options = {}) {
    return fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json", ...(options.headers || {}) },
    });
  }

  function transferRow(file) {
    const item = document.createElement("li");
    item.className = "transfer";
    item.innerHTML = `
      <div class="transfer-head">
        <span class="transfer-name"></span>
        <button type="button" class="button button-quiet transfer-cancel">Cancel</button>
      </div>
      <progress max="100" value="0"></progress>
      <div class="transfer-status" aria-hidden="true">Waiting…</div>`;
    item.querySelector(".transfer-name").textContent = file.name;
    item.querySelector("progress").setAttribute("aria-label", `Upload of ${file.name}`);
    transfers.prepend(item);
    return {
      item,
      progress: item.querySelector("progress"),
      status: item.querySelector(".transfer-status"),
      cancel: item.querySelector(".transfer-cancel"),
      show(text, state) {
        this.status.textContent = text;
        if (state) item.dataset.state = state;
      },
      finish(text, state) {
        this.show(text, state);
        this.cancel.remove();
        announce(`${file.name}: ${text}`);
      },
    };
  }

  function sendToS3(direct, file, row) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [name, value] of Object.entries(direct.fields)) data.append(name, value);
      data.append("file", file); // S3 wants the file last
      const xhr = new XMLHttpRequest();
      let announced = 0;
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.min(100, Math.round((event.loaded / event.total) * 100));
        // The body is the signed fields, then the file: what came before it isn't the file's.
        const sent = Math.max(0, Math.min(file.size, event.loaded - (event.total - file.size)));
        row.item.dataset.sent = String(sent); // what the transfer reported, for the page's tests
        row.progress.value = percent;
        row.show(`${percent}% · ${formatBytes(sent)} of ${formatBytes(file.size)}`, "sending");
        if (percent >= announced + 25) {
          announced = percent - (percent % 25);
          announce(`${file.name}: ${announced}%`);
        }
      });
      xhr.addEventListener("load", () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(s3Error(xhr)))));
      xhr.addEventListener("error", () => reject(new Error("Network error while sending the file to storage.")));
      xhr.addEventListener("abort", () => reject(new DOMException("Cancelled", "AbortError")));
      row.cancel.onclick = () => xhr.abort();
      xhr.open("POST", direct.url);
      xhr.send(data);
    });
  }

  async function upload(file) {
    const row = transferRow(file);
    let direct = null;
    try {
      if (file.size > maxSize) throw new Error(`The file is ${formatBytes(file.size)}; at most ${formatBytes(maxSize)} are allowed.`);
      if (file.size === 0) throw new Error("The file is empty.");
      row.show("Preparing…");
      const started = await api(apiUrl, {
        method: "POST",
        body: JSON.stringify({ filename: file.name, content_type: file.type, size: file.size }),
      });
      if (!started.ok) throw new Error(await apiError(started));
      direct = await started.json();
      await sendToS3(direct, file, row);
      row.show("Checking…");
      const completed = await api(`${apiUrl}/${direct.id}/complete`, { method: "POST" });
      if (!completed.ok) throw new Error(await apiError(completed));
      row.progress.value = 100;
      row.finish(`Uploaded · ${formatBytes(file.size)}`, "done");
      direct = null;
    } catch (error) {
      const cancelled = error.name === "AbortError";
      row.finish(cancelled ? "Cancelled." : error.message, cancelled ? "cancelled" : "failed");
    } finally {
      // A signed upload that didn't complete leaves no record behind.
      if (direct) api(`${apiUrl}/${direct.id}`, { method: "DELETE" }).catch(() => {});
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
