// How a transfer's progress reads: its speed over the last few seconds, the time left in words,
// and the pace at which rows are painted. For the page's uploader (queue-view.js, queue-runner.js).
(function () {
  "use strict";

  // Speed over the last few seconds of progress events: steady, yet quick to follow a change.
  const WINDOW_MS = 3000;
  // Progress events come hundreds of times a second; painting each took a third of the CPU the
  // browser spent on a transfer (BENCHMARKS.md, multipart), so rows are drawn at most every PAINT_MS.
  const PAINT_MS = 250;

  function formatDuration(seconds) {
    if (!Number.isFinite(seconds)) return "";
    if (seconds < 1) return "under a second";
    if (seconds < 60) return `${Math.ceil(seconds)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }

  // Keep `sent` as the job's latest figure, and a sample of it for speedOf().
  function record(job, sent) {
    const now = performance.now();
    job.sent = sent;
    job.samples.push({ at: now, sent });
    while (job.samples.length > 2 && now - job.samples[0].at > WINDOW_MS) job.samples.shift();
  }

  function speedOf(job) {
    const samples = job.samples;
    if (samples.length < 2) return 0;
    const first = samples[0];
    const last = samples[samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? (last.sent - first.sent) / seconds : 0;
  }

  function paintSoon(job, paint) {
    if (job.paintTimer) return;
    job.paintTimer = setTimeout(() => {
      job.paintTimer = null;
      paint();
    }, PAINT_MS);
  }

  window.UploadProgress = { formatDuration, record, speedOf, paintSoon };
})();
