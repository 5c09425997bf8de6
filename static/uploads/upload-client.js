// The upload protocol, apart from any page: uploadFile() sends one file straight to the store.
//   1. POST {apiUrl} {filename, content_type, size}  -> a policy signed for exactly this file
//   2. POST the signed fields and the file to S3     (XHR: fetch reports no upload progress)
//   3. POST {apiUrl}/{id}/complete                   -> the server checks the object with S3
// A file the server chose to receive in parts (method "multipart") goes through multipart.js in
// step 2, and `resumeId` continues such an upload: only the parts the store lacks are sent.
// Checksums (hashing.js, in a Web Worker): a file sent whole is hashed before step 1 and its
// SHA-256 declared there; a multipart upload is hashed part by part as it is sent, each part's
// SHA-256 declared when its URL is signed (the server's worker computes the whole file's).
// The server alone decides what becomes of a record. The client asks it to delete one only when
// the user cancelled before the file was stored, or when the store refused the file: then no
// object exists. A complete the server could not answer (5xx, network) is retried, then left
// pending; the server's cleanup checks it again later.
(function () {
  "use strict";

  const UNCHECKED = "Uploaded, but the server could not check it yet; it will be checked again later.";

  const { UploadError, cancelled, sleep, callApi, apiError } = window.UploadTransport;

  // S3 answers XML with <Code> and <Message>.
  function storeErrorMessage(xhr) {
    const xml = xhr.responseXML || new DOMParser().parseFromString(xhr.responseText || "", "application/xml");
    const code = xml.querySelector("Code")?.textContent || "";
    const message = xml.querySelector("Message")?.textContent || "";
    if (code === "EntityTooLarge") return "The file is larger than allowed.";
    if (code === "EntityTooSmall") return "The file is empty.";
    if (/expired/i.test(message)) return "The upload permission expired; please try again.";
    if (code === "AccessDenied") return "Storage refused the file (it does not match what was signed).";
    return message ? `Storage refused the file: ${message}` : `Storage answered ${xhr.status}.`;
  }

  // A reload or a closed tab aborts the transfers: that is no cancel, the upload may be resumed.
  let leaving = false;
  window.addEventListener("pagehide", () => {
    leaving = true;
  });

  // Resolve once the store has the file; reject with store_refused, send_failed or cancelled.
  async function sendToStore(direct, file, { onProgress, signal }) {
    const data = new FormData();
    for (const [name, value] of Object.entries(direct.fields)) data.append(name, value);
    data.append("file", file); // S3 wants the file last
    // The body is the signed fields, then the file: what came before it isn't the file's.
    const progress = (event) => {
      if (event.lengthComputable) onProgress(Math.max(0, Math.min(file.size, event.loaded - (event.total - file.size))), file.size);
    };
    let xhr;
    try {
      xhr = await window.UploadTransport.send("POST", direct.url, data, { onProgress: progress, signal });
    } catch (failure) {
      if (failure.aborted) throw cancelled();
      throw new UploadError("Network error while sending the file to storage.", "send_failed");
    }
    if (xhr.status < 200 || xhr.status >= 300) throw new UploadError(storeErrorMessage(xhr), "store_refused", xhr.status);
  }

  // Ask the server to check the stored object; retry while it cannot answer (5xx, network).
  async function complete(id, { apiUrl, onStage, retryDelays }) {
    for (let attempt = 0; ; attempt += 1) {
      let response = null;
      try {
        response = await callApi(`${apiUrl}/${id}/complete`, { method: "POST" });
      } catch (_) { /* network error: as good as a 5xx */ }
      if (response?.ok) return response.json();
      if (response && response.status < 500) {
        throw await apiError(response, "complete_refused");
      }
      if (attempt >= retryDelays.length) throw new UploadError(UNCHECKED, "unchecked", response?.status || 0);
      onStage("retrying", { delay: retryDelays[attempt] });
      await sleep(retryDelays[attempt]);
      onStage("checking");
    }
  }

  // Upload one file; resolve with the completed upload (the API's JSON), or reject with an
  // UploadError. `signal` cancels until the store has the file; after that the server decides.
  // `resumeId`: a pending multipart upload of this same file (the page remembers it); if the
  // server no longer has it, the file starts afresh. `onStarted(direct)` tells the page its id.
  async function uploadFile(
    file,
    {
      apiUrl,
      onProgress = () => {},
      onStage = () => {},
      onStarted = () => {},
      signal,
      retryDelays = [1000, 2000, 4000],
      resumeId = null,
      startUrl = null, // where to start it, when not apiUrl (an UploadField's widget: /api/field-uploads)
      startBody = {}, // more of the start's JSON body (the widget's signed field)
      multipartThreshold = 64 * 1024 * 1024, // files below it are sent whole: hashed before they start
    },
  ) {
    const forget = (id) =>
      callApi(`${apiUrl}/${id}`, { method: "DELETE" }).catch(() => { /* cleanup sweeps it */ });
    const multipart = window.UploadMultipart;

    if (signal?.aborted) throw cancelled();
    let direct = null;
    let stored = [];
    if (resumeId && multipart) {
      onStage("resuming");
      try {
        const state = await multipart.storedParts(resumeId, apiUrl);
        const { part_size, parts_count, part_urls_per_request } = state;
        direct = { id: resumeId, method: "multipart", part_size, parts_count, part_urls_per_request };
        stored = state.parts;
      } catch (_) { /* gone, settled or unreachable: start afresh */ }
    }
    const hashing = window.UploadHashing;
    let checksum = "";
    if (!direct && hashing?.available && file.size < multipartThreshold) {
      onStage("hashing");
      checksum = await hashing.sha256(file).catch(() => ""); // no checksum: the server still records one
    }
    if (!direct) {
      onStage("signing");
      let started;
      try {
        // Not aborted by `signal`: the server might sign it anyway, and then we need its id to delete it.
        started = await callApi(startUrl || apiUrl, {
          method: "POST",
          body: JSON.stringify({
            ...startBody,
            filename: file.name,
            content_type: file.type,
            size: file.size,
            ...(checksum ? { checksum_sha256: checksum } : {}),
          }),
        });
      } catch (_) {
        throw new UploadError("The server could not be reached.", "not_signed");
      }
      if (!started.ok) throw await apiError(started, "not_signed");
      direct = await started.json();
    }
    onStarted(direct);

    onStage("sending");
    try {
      if (direct.method === "multipart") {
        const hashPart = hashing?.available ? (start, end) => hashing.part(file, start, end) : null;
        await multipart.sendParts(direct, file, stored, { apiUrl, onProgress, signal, retryDelays, hashPart });
      } else {
        await sendToStore(direct, file, { onProgress, signal });
      }
    } catch (error) {
      // Only these two mean no object exists (or will): the record can go (a multipart upload is
      // aborted by the server). A page being left keeps it, for resuming.
      if ((error.reason === "cancelled" || error.reason === "store_refused") && !leaving) await forget(direct.id);
      throw error;
    }

    onStage("checking");
    return complete(direct.id, { apiUrl, onStage, retryDelays });
  }

  window.UploadClient = { uploadFile, UploadError };
})();
