// DirectUploadWidget (uploads/widgets.py): the file input of a model's UploadField, in any form
// and in the admin. The chosen file goes straight to the store through UploadClient.uploadFile
// (upload-client.js, the page's own protocol: one request or multipart by the server's plan),
// started at the field's endpoint with the field's signed spec; the hidden input then holds the
// value the server signed for this user and field, which is all the form posts.
(function () {
  "use strict";

  const PAINT_MS = 250; // progress events come hundreds of times a second; paint a few

  const { formatBytes } = window.UploadSizes;

  function setUp(box) {
    if (box.dataset.ready || !window.UploadClient) return;
    box.dataset.ready = "true";
    const el = (name) => box.querySelector(`[data-upload-${name}]`);
    const input = el("input");
    const hidden = el("value");
    const clear = el("clear");
    const progressBox = el("progress");
    const bar = progressBox.querySelector("progress");
    const cancelButton = el("cancel");
    const status = el("status");
    const form = box.closest("form");
    const maxSize = Number(box.dataset.maxSize);
    let controller = null;

    el("nojs").hidden = true;
    el("picker").hidden = false;

    function say(text, state) {
      status.textContent = text;
      if (state) box.dataset.state = state;
    }

    async function send(file) {
      if (controller) controller.abort();
      if (!file.size) return say("The file is empty.", "failed");
      if (file.size > maxSize) {
        return say(`The file is ${formatBytes(file.size)}; at most ${formatBytes(maxSize)} are allowed.`, "failed");
      }
      const mine = new AbortController();
      controller = mine;
      let value = "";
      let sent = 0;
      let paintTimer = null;
      const paint = () => {
        paintTimer = null;
        if (controller !== mine) return;
        const percent = Math.min(100, Math.floor((sent / file.size) * 100));
        bar.value = percent;
        say(`${percent}% · ${formatBytes(sent)} of ${formatBytes(file.size)}`);
      };
      bar.value = 0;
      progressBox.hidden = false;
      cancelButton.hidden = false;
      say(`Preparing ${file.name}…`, "sending");
      try {
        const done = await UploadClient.uploadFile(file, {
          apiUrl: box.dataset.apiUrl,
          startUrl: box.dataset.startUrl,
          startBody: { field: box.dataset.field },
          multipartThreshold: Number(box.dataset.multipartThreshold) || undefined,
          signal: mine.signal,
          onStarted(direct) {
            value = direct.value;
            box.dataset.uploadId = direct.id;
            box.dataset.method = direct.method;
          },
          onStage(stage) {
            if (stage === "checking") {
              cancelButton.hidden = true; // the store has the file: the server decides now
              say(`Checking ${file.name}…`, "checking");
            }
          },
          onProgress(bytes) {
            sent = bytes;
            box.dataset.sent = String(bytes); // what the transfer reported, for tests
            if (!paintTimer) paintTimer = setTimeout(paint, PAINT_MS);
          },
        });
        hidden.value = value;
        if (clear) clear.checked = false;
        bar.value = 100;
        say(`Uploaded ${file.name} · ${formatBytes(done.size ?? file.size)}. Save to keep it.`, "done");
      } catch (error) {
        hidden.value = "";
        input.value = "";
        const cancelled = error.reason === "cancelled";
        say(cancelled ? "Cancelled." : error.message, cancelled ? "cancelled" : "failed");
      } finally {
        if (controller === mine) controller = null;
        cancelButton.hidden = true;
      }
    }

    // Clear wins over a file uploaded meanwhile: the form then posts only the Clear.
    clear?.addEventListener("change", () => {
      if (!clear.checked || !hidden.value) return;
      hidden.value = "";
      input.value = "";
      say("The new file will not be kept.", "idle");
    });
    input.addEventListener("change", () => {
      if (input.files.length) send(input.files[0]);
    });
    cancelButton.addEventListener("click", () => {
      if (controller) controller.abort();
      input.focus();
    });
    // Posting mid-upload would save the old value: wait, or cancel first.
    form?.addEventListener("submit", (event) => {
      if (!controller) return;
      event.preventDefault();
      say("Wait for the upload to finish, or cancel it, before saving.");
    });
  }

  function setUpAll(root) {
    root.querySelectorAll("[data-direct-upload]").forEach((box) => {
      // The admin's hidden template row for inlines is cloned when a row is added.
      if (!box.closest(".empty-form")) setUp(box);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => setUpAll(document));
  } else {
    setUpAll(document);
  }
  document.addEventListener("formset:added", (event) => setUpAll(event.target));
})();
