// The uploader's queue on screen: each file a row cloned from the <template> (preview or type,
// progress, speed, time left, Cancel; Retry and Remove once it failed), the summary above them
// counting the whole queue, and the polite announcements. What a row does is queue-runner.js's.
(function () {
  "use strict";

  const { formatBytes } = window.UploadSizes;
  const { formatDuration, speedOf } = window.UploadProgress;

  // Draw the queue of `form` in the page's elements; `actions` {cancel, retry} handle a row's buttons.
  function create(form, actions) {
    const queueBox = document.getElementById("queue");
    const transfers = document.getElementById("transfers");
    const template = document.getElementById("transfer-template");
    const announcer = document.getElementById("announcer");
    const input = form.querySelector("input[type=file]");
    const summary = {
      title: document.getElementById("queue-title"),
      stats: document.getElementById("queue-stats"),
      progress: document.getElementById("queue-progress"),
      cancelAll: document.getElementById("cancel-all"),
    };
    // Types the browser draws itself (the server's raster types, serving.RASTER_IMAGE_TYPES): shown
    // from a local object URL, nothing uploaded for it.
    const PREVIEWABLE = new Set((form.dataset.rasterTypes || "").split(",").filter(Boolean));

    // How long a finished row stays before folding into the list (ms); a test may lengthen it.
    function collapseDelay() {
      return Number(form.dataset.collapseDelay || 1500);
    }

    function announce(text) {
      announcer.textContent = text;
    }

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

    function add(file) {
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
      job.cancel.addEventListener("click", () => actions.cancel(job));
      job.retry.addEventListener("click", () => actions.retry(job));
      job.remove.addEventListener("click", () => remove(job, { focusNext: true }));
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

    function remove(job, { focusNext = false } = {}) {
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
        setTimeout(() => remove(job), 300);
      }, collapseDelay());
    }

    // A row's last word: its state, said aloud, and the focus kept on the row's next button.
    function settle(job, state, text) {
      const hadFocus = job.item.contains(document.activeElement);
      setState(job, state, text);
      announce(`${job.file.name}: ${text}`);
      if (hadFocus) {
        const target = [job.retry, job.remove].find((button) => !button.hidden);
        if (target) target.focus();
      }
    }

    return { jobs, cancelAll: summary.cancelAll, isActive, updateSummary, announce, add, setState, remove, collapse, settle };
  }

  window.UploadQueueView = { create };
})();
