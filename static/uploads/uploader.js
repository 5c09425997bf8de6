// The uploader: takes over the upload form when JavaScript runs. Files dropped on the page or
// chosen with the button join a queue (queue-view.js draws it, queue-runner.js sends its files
// through UploadClient.uploadFile, upload-client.js); once a file is settled the list refreshes
// through htmx ("uploads-changed") and its row folds away. Here: the page's wiring.
// Without JavaScript the form still POSTs one file to S3 directly.
(function () {
  "use strict";

  const form = document.querySelector("form[data-uploader]");
  if (!form || !window.UploadClient) return;

  const card = document.getElementById("upload-card") || form;
  const input = form.querySelector("input[type=file]");

  document.documentElement.classList.add("js");
  input.multiple = true;
  input.required = false;

  // A row's buttons act through the runner, made once the queue it runs exists.
  let runner = null;
  const queue = window.UploadQueueView.create(form, {
    cancel: (job) => runner.cancel(job),
    retry: (job) => runner.retry(job),
  });
  runner = window.UploadQueueRunner.create(form, queue);
  const { jobs, isActive } = queue;

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

  queue.cancelAll.addEventListener("click", () => {
    jobs.filter(isActive).forEach(runner.cancel);
    input.focus();
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    runner.enqueue(input.files);
    input.value = "";
  });
  input.addEventListener("change", () => {
    runner.enqueue(input.files);
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
    runner.enqueue(event.dataTransfer.files);
  });
})();
