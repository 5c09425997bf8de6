// Multipart uploads on their way, so that choosing the same file after a reload resumes it:
// [{id, name, size, lastModified}] in localStorage. The server decides whether it still can.
(function () {
  "use strict";

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

  // The upload id this browser remembers for `file`, if any.
  function idFor(file) {
    return saved().find((entry) => sameFile(entry, file))?.id;
  }

  function isRemembered(id) {
    return saved().some((entry) => entry.id === id);
  }

  function remember(file, id) {
    const entries = saved().filter((entry) => !sameFile(entry, file));
    entries.push({ id, name: file.name, size: file.size, lastModified: file.lastModified });
    localStorage.setItem(SAVED, JSON.stringify(entries.slice(-20)));
  }

  function forget(file) {
    localStorage.setItem(SAVED, JSON.stringify(saved().filter((entry) => !sameFile(entry, file))));
  }

  window.UploadResumable = { idFor, isRemembered, remember, forget };
})();
