// The uploader: takes over the upload form when JavaScript runs. Files dropped on the page or
// chosen with the button join a queue; each shows as a row cloned from the <template> (preview or
// type, progress, speed, time left, Cancel; Retry and Remove once it failed), and the summary
// above them counts the whole queue. The protocol is UploadClient.uploadFile's (upload-client.js);
// once a file is settled the list refreshes through htmx ("uploads-changed") and its row folds away.
// Without JavaScript the form still POSTs one file to S3 directly.
(function () {
  "use strict";

  const form = document.querySelector("form[data-uploader]");
  if (!form || !window.UploadClient) return;

  const card = document.getElementById("upload-card") || form;
  const input = form.querySelector("input[type=file]");
  const queueBox = document.getElementById("queue");
  const transfers = document.getElementById("transfers");
  const template = document.getElementById("transfer-template");
  const announcer = document.getElementById("announcer");
  const summary = {
    title: document.getElementById("queue-title"),
    stats: document.getElementById("queue-stats"),
    progress: document.getElementById("queue-progress"),
    cancelAll: document.getElementById("cancel-all"),
  };

  const PARALLEL = 3; // files sent at once; the rest wait their turn
  // Types the browser draws itself (the server's raster types, serving.RASTER_IMAGE_TYPES): shown
  // from a local object URL, nothing uploaded for it.
  const PREVIEWABLE = new Set((form.dataset.rasterTypes || "").split(",").filter(Boolean));
  const NETWORK_HELP =
    "Storage could not be reached. The connection may have dropped, or the bucket's CORS rules may not " +
    "allow this site (the site's owner can fix that with manage.py configure_bucket).";

  document.documentElement.classList.add("js");
  input.multiple = true;
  input.required = false;

  // Read at each upload, so a test can shorten them: data-retry-delays="1000,2000,4000" (ms).
  function retryDelays() {
    return (form.dataset.retryDelays || "").split(",").filter(Boolean).map(Number);
  }

  // How long a finished row stays before folding into the list (ms); a test may lengthen it.
  function collapseDelay() {
    return Number(form.dataset.collapseDelay || 1500);
  }

  function announce(text) {
    announcer.textContent = text;
  }

  const { formatBytes } = window.UploadSizes;

  function formatDuration(seconds) {
    if (!Number.isFinite(seconds)) return "";
    if (seconds < 1) return "under a second";
    if (seconds < 60) return `${Math.ceil(seconds)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }

  // Speed over the last few seconds of progress events: steady, yet quick to follow a change.
  const WINDOW_MS = 3000;
  function speedOf(job) {
    const samples = job.samples;
    if (samples.length < 2) return 0;
    const first = samples[0];
    const last = samples[samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? (last.sent - first.sent) / seconds : 0;
  }

  // Progress events come hundreds of times a second; painting each took a third of the CPU the
  // browser spent on a transfer (BENCHMARKS.md, multipart), so rows are drawn at most every PAINT_MS.
  const PAINT_MS = 250;
  function paintSoon(job, paint) {
    if (job.paintTimer) return;
    job.paintTimer = setTimeout(() => {
      job.paintTimer = null;
      paint();
    }, PAINT_MS);
  }

  // --- The queue ----------------------------------------------------------------------------

  const jobs = []; // every row on screen, in the order added
  let announcedAll = true;

  function isActive(job) {
    return job.state === "queued" || job.state === "sending" || job.state === "checking";
  }

  function updateSummary() {
    queueBox.hidden = jobs.length === 0;
    if (!jobs.length) return;
    // Bytes count for the files that are going, or went: not the ones that failed or were cancelled.
    const counted = jobs.filter((job) => isActive(job) || job.state === "done" || job.state === "pending");
    const total = counted.reduce((sum, job) => sum + job.file.size, 0);
    const sent = counted.reduce((sum, job) => sum + (isActive(job) ? job.sent : job.file.size), 0);
    const done = jobs.filter((job) => job.state === "done").length;
    // A cancelled file was the user's choice, not a failure: counted apart from "did not upload".
    const failed = jobs.filter((job) => job.state === "failed").length;
    const cancelled = jobs.filter((job) => job.state === "cancelled").length;
    const active = jobs.filter(isActive);
    const speed = active.reduce((sum, job) => sum + speedOf(job), 0);
    const percent = total ? Math.floor((sent / total) * 100) : 0;
    summary.progress.value = percent;
    summary.cancelAll.hidden = active.length === 0;
    if (active.length) {
      summary.title.textContent = `Uploading ${Math.min(done + 1, jobs.length)} of ${jobs.length}`;
      const left = speed > 0 ? formatDuration((total - sent) / speed) : "";
      summary.stats.textContent = [
        `${percent}%`,
        `${formatBytes(sent)} of ${formatBytes(total)}`,
        speed > 0 ? `${formatBytes(speed)}/s` : "",
        left ? `${left} left` : "",
      ]
        .filter(Boolean)
        .join(" · ");
      announcedAll = false;
      return;
    }
    summary.title.textContent = `${done} of ${jobs.length} uploaded`;
    const notes = [failed ? `${failed} did not upload: see why below.` : "", cancelled ? `${cancelled} cancelled.` : ""];
    summary.stats.textContent = notes.filter(Boolean).join(" ");
    if (!announcedAll) {
      announcedAll = true;
      const whole = !failed && !cancelled;
      announce(whole ? `All ${done} uploaded.` : `${done} of ${jobs.length} uploaded. ${notes.filter(Boolean).join(" ")}`);
    }
  }

  function addJob(file) {
    const item = template.content.firstElementChild.cloneNode(true);
    const job = {
      file,
      item,
      state: "queued",
      sent: 0,
      samples: [],
      controller: null,
      previewUrl: "",
      progress: item.querySelector("progress"),
      status: item.querySelector(".transfer-status"),
      cancel: item.querySelector(".transfer-cancel"),
      retry: item.querySelector(".transfer-retry"),
      remove: item.querySelector(".transfer-remove"),
    };
    item.querySelector(".transfer-name").textContent = file.name;
    item.querySelector(".transfer-size").textContent = formatBytes(file.size);
    job.progress.setAttribute("aria-label", `Upload of ${file.name}`);
    job.cancel.setAttribute("aria-label", `Cancel ${file.name}`);
    job.retry.setAttribute("aria-label", `Retry ${file.name}`);
    job.remove.setAttribute("aria-label", `Remove ${file.name} from the queue`);
    showPreview(job);
    job.cancel.addEventListener("click", () => cancel(job));
    job.retry.addEventListener("click", () => retry(job));
    job.remove.addEventListener("click", () => removeJob(job, { focusNext: true }));
    setState(job, "queued", "Waiting to start…");
    jobs.push(job);
    transfers.append(item);
    return job;
  }

  function showPreview(job) {
    const image = job.item.querySelector(".transfer-preview");
    if (PREVIEWABLE.has(job.file.type)) {
      job.previewUrl = URL.createObjectURL(job.file);
      image.src = job.previewUrl;
      image.hidden = false;
      job.item.querySelector(".transfer-icon").classList.add("has-preview");
    } else {
      const dot = job.file.name.lastIndexOf(".");
      job.item.querySelector(".file-ext").textContent = dot > 0 ? job.file.name.slice(dot + 1, dot + 5) : "";
    }
  }

  function setState(job, state, text) {
    job.state = state;
    job.item.dataset.state = state;
    job.status.textContent = text;
    const settled = !isActive(job);
    job.cancel.hidden = settled || state === "checking"; // the store has the file: the server decides
    job.retry.hidden = !(state === "failed" || state === "cancelled") || job.final;
    job.remove.hidden = !settled || state === "done";
    updateSummary();
  }

  function removeJob(job, { focusNext = false } = {}) {
    const index = jobs.indexOf(job);
    if (index < 0) return;
    jobs.splice(index, 1);
    if (job.previewUrl) URL.revokeObjectURL(job.previewUrl);
    job.item.remove();
    if (focusNext) {
      const next = jobs[index] || jobs[index - 1];
      const target = next && [next.retry, next.cancel, next.remove].find((button) => !button.hidden);
      (target || input).focus();
    }
    updateSummary();
  }

  // A finished row folds away: the list below now shows the file.
  function collapse(job) {
    setTimeout(() => {
      if (job.state !== "done") return;
      job.item.classList.add("collapsing");
      setTimeout(() => removeJob(job), 300);
    }, collapseDelay());
  }

  function cancel(job) {
    if (job.controller) {
      job.controller.abort();
    } else if (job.state === "queued") {
      settle(job, "cancelled", "Cancelled.");
    }
  }

  // Retry replaces the earlier attempt's record (left pending by a broken connection, or failed by
  // the server's check) rather than adding a second row; a multipart upload this page remembers
  // is resumed instead, so its record stays. The server's DELETE settles it (and its quota).
  function retry(job) {
    const earlier = job.item.dataset.uploadId;
    delete job.item.dataset.uploadId;
    if (earlier && !saved().some((entry) => entry.id === earlier)) {
      job.replacing = UploadTransport.callApi(`${form.dataset.apiUrl}/${earlier}`, { method: "DELETE" })
        .catch(() => { /* unreachable: cleanup settles it */ });
    }
    job.sent = 0;
    job.samples = [];
    job.progress.value = 0;
    setState(job, "queued", "Waiting to start…");
    job.cancel.focus();
    pump();
  }

  function settle(job, state, text) {
    const hadFocus = job.item.contains(document.activeElement);
    setState(job, state, text);
    announce(`${job.file.name}: ${text}`);
    if (hadFocus) {
      const target = [job.retry, job.remove].find((button) => !button.hidden);
      if (target) target.focus();
    }
  }

  // --- Sending ------------------------------------------------------------------------------

  // One job at a time, counted afresh: send() settles a refused file at once (too big, empty), and
  // a list taken before that would hand the next file to send() twice: two uploads of one file.
  function pump() {
    for (;;) {
      const running = jobs.filter((job) => job.state === "sending" || job.state === "checking").length;
      const next = jobs.find((job) => job.state === "queued" && !job.controller);
      if (!next || running >= PARALLEL) return;
      send(next);
    }
  }

  // Refusals that sending the same file again can only meet again: no Retry for them.
  const FINAL_CODES = new Set([
    "object_type_mismatch", "content_type_not_allowed", "invalid_content_type", "upload_too_large", "object_empty",
  ]);

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

  function describe(error) {
    if (error.reason === "send_failed") return NETWORK_HELP;
    if (error.reason === "not_signed" && !error.status) return "The server could not be reached; check your connection.";
    return error.message; // the server's and the store's own words
  }

  async function send(job) {
    const { file } = job;
    const maxSize = Number(form.dataset.maxSize);
    job.final = false;
    if (file.size > maxSize || file.size === 0) {
      job.final = true; // a fresh policy would not change this
      const why = file.size ? `The file is ${formatBytes(file.size)}; at most ${formatBytes(maxSize)} are allowed.` : "The file is empty.";
      settle(job, "failed", why); // pump() goes on to the next file
      return;
    }
    const controller = new AbortController();
    job.controller = controller;
    setState(job, "sending", "Preparing…");
    let announced = 0;
    let resumable = false; // a broken connection leaves a multipart upload to resume
    // Drawn from the job's state, at most every PAINT_MS (see paintSoon).
    const paintProgress = () => {
      if (job.state !== "sending") return; // settled meanwhile: its own text stays
      const percent = Math.min(100, Math.round((job.sent / file.size) * 100));
      job.progress.value = percent;
      const speed = speedOf(job);
      const parts = [`${percent}%`, `${formatBytes(job.sent)} of ${formatBytes(file.size)}`];
      if (speed > 0 && job.sent < file.size) {
        parts.push(`${formatBytes(speed)}/s`, `${formatDuration((file.size - job.sent) / speed)} left`);
      }
      job.status.textContent = parts.join(" · ");
      if (percent >= announced + 25) {
        announced = percent - (percent % 25);
        announce(`${file.name}: ${announced}%`);
      }
      updateSummary();
    };
    try {
      if (job.replacing) await job.replacing; // its quota is free before the new one is asked
      job.replacing = null;
      const done = await UploadClient.uploadFile(file, {
        apiUrl: form.dataset.apiUrl,
        multipartThreshold: Number(form.dataset.multipartThreshold) || undefined,
        signal: controller.signal,
        retryDelays: retryDelays(),
        resumeId: saved().find((entry) => sameFile(entry, file))?.id,
        onStarted(direct) {
          job.item.dataset.uploadId = direct.id;
          if (direct.method === "multipart") {
            resumable = true;
            remember(file, direct.id);
          } else {
            forgetFile(file);
          }
        },
        onStage(stage, detail) {
          if (stage === "hashing") setState(job, "sending", "Preparing…");
          if (stage === "sending") setState(job, "sending", "Sending…");
          if (stage === "resuming") setState(job, "sending", "Resuming…");
          if (stage === "checking") setState(job, "checking", "Checking…");
          if (stage === "retrying") {
            setState(job, "checking", `Checking… the server did not answer; trying again in ${detail.delay / 1000} s.`);
          }
        },
        onProgress(sent) {
          const now = performance.now();
          job.sent = sent;
          job.samples.push({ at: now, sent });
          while (job.samples.length > 2 && now - job.samples[0].at > WINDOW_MS) job.samples.shift();
          job.item.dataset.sent = String(sent); // what the transfer reported, for the page's tests
          if (job.state !== "sending") job.state = "sending";
          paintSoon(job, paintProgress);
        },
      });
      job.progress.value = 100;
      settle(job, "done", `Uploaded · ${formatBytes(done.size ?? file.size)}`);
      forgetFile(file);
      collapse(job);
    } catch (error) {
      if (!(resumable && (error.reason === "send_failed" || error.reason === "unchecked"))) forgetFile(file);
      // UploadClient deleted the record of a cancelled or refused send: nothing for Retry to replace.
      if (error.reason === "cancelled" || error.reason === "store_refused") delete job.item.dataset.uploadId;
      const state = STATE[error.reason] || "failed";
      if (state === "pending") job.final = true; // stored: a retry would upload it twice
      if (FINAL_CODES.has(error.code)) job.final = true;
      settle(job, state, describe(error));
    } finally {
      job.controller = null;
      if (window.htmx) htmx.trigger(document.body, "uploads-changed");
      pump();
    }
  }

  function enqueue(files) {
    const list = Array.from(files);
    if (!list.length) return;
    // A new batch starts when nothing is left running: settled rows of the last one go.
    if (!jobs.some(isActive)) jobs.filter((job) => job.state === "done").forEach((job) => removeJob(job));
    list.forEach(addJob);
    announce(`${list.length} file${list.length === 1 ? "" : "s"} added to the queue.`);
    pump();
  }

  // The server sees only a pending record; this tab knows it is still sending it. Its row in the
  // list says "Uploading" instead of "Pending" and the resume hint, after every list refresh.
  function markRowsSendingHere() {
    for (const job of jobs.filter(isActive)) {
      const row = job.item.dataset.uploadId && document.getElementById(`upload-${job.item.dataset.uploadId}`);
      if (!row || row.classList.contains("sending-here")) continue;
      row.classList.add("sending-here");
      const badge = row.querySelector(".badge");
      if (badge) {
        badge.className = "badge badge-uploading";
        badge.textContent = "Uploading";
      }
      row.querySelectorAll(".resume-hint, .row-note").forEach((element) => element.remove());
    }
  }
  document.body.addEventListener("htmx:afterSettle", markRowsSendingHere);

  summary.cancelAll.addEventListener("click", () => {
    jobs.filter(isActive).forEach(cancel);
    input.focus();
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    enqueue(input.files);
    input.value = "";
  });
  input.addEventListener("change", () => {
    enqueue(input.files);
    input.value = "";
  });

  // Drop files anywhere on the page: left to the browser, a drop outside the card would navigate
  // away to the file. The card lights up while files are dragged over the page.
  const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  let depth = 0; // dragenter/dragleave fire for every element crossed; count to know when it left
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    card.classList.add("dragging");
  });
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) card.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    card.classList.remove("dragging");
    enqueue(event.dataTransfer.files);
  });
})();
