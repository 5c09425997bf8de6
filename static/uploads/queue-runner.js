// The uploader's jobs and their states: queued -> sending -> checking -> done, or failed,
// pending (stored, not yet checked) or cancelled. PARALLEL files go at once, through
// UploadClient.uploadFile (upload-client.js); a file that can't be sent is refused before it
// starts, and a refusal that sending it again would only meet again offers no Retry.
// The rows are queue-view.js's; once a file is settled the list refreshes ("uploads-changed").
(function () {
  "use strict";

  const PARALLEL = 3; // files sent at once; the rest wait their turn
  const NETWORK_HELP =
    "Storage could not be reached. The connection may have dropped, or the bucket's CORS rules may not " +
    "allow this site (the site's owner can fix that with manage.py configure_bucket).";
  // Refusals that sending the same file again can only meet again: no Retry for them.
  const FINAL_CODES = new Set([
    "object_type_mismatch", "content_type_not_allowed", "invalid_content_type", "upload_too_large", "object_empty",
  ]);
  // What each UploadError reason leaves the row showing; any other is "failed".
  const STATE = { cancelled: "cancelled", unchecked: "pending", send_failed: "failed" };

  const { formatBytes } = window.UploadSizes;
  const { formatDuration, record, speedOf, paintSoon } = window.UploadProgress;
  const resumable = window.UploadResumable;

  function describe(error) {
    if (error.reason === "send_failed") return NETWORK_HELP;
    if (error.reason === "not_signed" && !error.status) return "The server could not be reached; check your connection.";
    return error.message; // the server's and the store's own words
  }

  // Why `file` can't be sent at all, or "" (a fresh policy would not change it).
  function refusal(file, maxSize) {
    if (file.size === 0) return "The file is empty.";
    if (file.size > maxSize) return `The file is ${formatBytes(file.size)}; at most ${formatBytes(maxSize)} are allowed.`;
    return "";
  }

  // Run the jobs of `queue` (a queue-view.js queue) for `form`.
  function create(form, queue) {
    const { jobs, isActive, setState, settle, announce } = queue;

    // Read at each upload, so a test can shorten them: data-retry-delays="1000,2000,4000" (ms).
    function retryDelays() {
      return (form.dataset.retryDelays || "").split(",").filter(Boolean).map(Number);
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
      if (earlier && !resumable.isRemembered(earlier)) {
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

    async function send(job) {
      const { file } = job;
      job.final = false;
      const why = refusal(file, Number(form.dataset.maxSize));
      if (why) {
        job.final = true; // a fresh policy would not change this
        settle(job, "failed", why); // pump() goes on to the next file
        return;
      }
      const controller = new AbortController();
      job.controller = controller;
      setState(job, "sending", "Preparing…");
      let announced = 0;
      let resumes = false; // a broken connection leaves a multipart upload to resume
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
        queue.updateSummary();
      };
      try {
        if (job.replacing) await job.replacing; // its quota is free before the new one is asked
        job.replacing = null;
        const done = await UploadClient.uploadFile(file, {
          apiUrl: form.dataset.apiUrl,
          multipartThreshold: Number(form.dataset.multipartThreshold) || undefined,
          signal: controller.signal,
          retryDelays: retryDelays(),
          resumeId: resumable.idFor(file),
          onStarted(direct) {
            job.item.dataset.uploadId = direct.id;
            if (direct.method === "multipart") {
              resumes = true;
              resumable.remember(file, direct.id);
            } else {
              resumable.forget(file);
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
            record(job, sent);
            job.item.dataset.sent = String(sent); // what the transfer reported, for the page's tests
            if (job.state !== "sending") job.state = "sending";
            paintSoon(job, paintProgress);
          },
        });
        job.progress.value = 100;
        settle(job, "done", `Uploaded · ${formatBytes(done.size ?? file.size)}`);
        resumable.forget(file);
        queue.collapse(job);
      } catch (error) {
        if (!(resumes && (error.reason === "send_failed" || error.reason === "unchecked"))) resumable.forget(file);
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

    // Files chosen or dropped join the queue. A new batch starts when nothing is left running:
    // settled rows of the last one go.
    function enqueue(files) {
      const list = Array.from(files);
      if (!list.length) return;
      if (!jobs.some(isActive)) jobs.filter((job) => job.state === "done").forEach((job) => queue.remove(job));
      list.forEach(queue.add);
      announce(`${list.length} file${list.length === 1 ? "" : "s"} added to the queue.`);
      pump();
    }

    return { enqueue, cancel, retry };
  }

  window.UploadQueueRunner = { create };
})();
