// The multipart protocol, for files the server chose to receive in parts (method "multipart"):
//   1. GET  {apiUrl}/{id}/parts                -> the plan and the parts the store already has (resume)
//   2. POST {apiUrl}/{id}/parts {part_numbers, checksums} -> URLs for up to plan.part_urls_per_request
//      parts, each signed for its length and, when the page hashed it (partChecksum), its SHA-256
//   3. PUT each missing part to its URL, CONCURRENCY at a time; a network error or a 5xx is retried
//      with backoff, an expired URL (403) is signed again
// upload-client.js then asks the server to complete it: the server lists the parts itself.
(function () {
  "use strict";

  const CONCURRENCY = 4;
  // With checksums a batch waits for its parts' digests: the first batch is one round of
  // CONCURRENCY parts (the transfer starts as soon as they are hashed), the next ones 16 parts,
  // few enough requests to stay far under the /parts rate limit.
  const HASHED_BATCH = 16;
  const { UploadError, cancelled, sleep, callApi, apiErrorMessage, send } = window.UploadTransport;

  // Resolve with the parts the store has; reject with the API's refusal (the caller starts afresh).
  async function storedParts(id, apiUrl) {
    const response = await callApi(`${apiUrl}/${id}/parts`, { method: "GET" });
    if (!response.ok) throw Object.assign(new Error("not resumable"), { status: response.status });
    return response.json(); // {part_size, parts_count, part_urls_per_request, parts: [{part_number, size, etag}]}
  }

  // Send every part the store lacks. `plan` is {id, part_size, parts_count, part_urls_per_request}; `stored` the parts
  // the store already has. Progress counts the stored parts as sent.
  async function sendParts(plan, file, stored, { apiUrl, onProgress, signal, retryDelays, partChecksum = null }) {
    // Where the batch of the index-th missing part starts, and its length.
    const batch = plan.part_urls_per_request; // the server's limit, from its plan
    const batchOf = (index) => {
      if (!partChecksum) return [index - (index % batch), batch];
      if (index < CONCURRENCY) return [0, CONCURRENCY];
      return [index - ((index - CONCURRENCY) % HASHED_BATCH), HASHED_BATCH];
    };
    const partRange = (number) => [(number - 1) * plan.part_size, Math.min(file.size, number * plan.part_size)];
    const length = (number) => partRange(number)[1] - partRange(number)[0];
    // A part cut short (a connection broken mid-part that the store kept anyway) is sent again.
    const whole = stored.filter((part) => part.part_number <= plan.parts_count && part.size === length(part.part_number));
    const have = new Set(whole.map((part) => part.part_number));
    const missing = [];
    for (let number = 1; number <= plan.parts_count; number += 1) if (!have.has(number)) missing.push(number);

    let done = whole.reduce((sum, part) => sum + part.size, 0);
    const inFlight = new Map(); // part number -> bytes sent so far
    const report = () => {
      let sending = 0;
      for (const bytes of inFlight.values()) sending += bytes;
      onProgress(Math.min(file.size, done + sending), file.size);
    };
    report();

    // URLs are signed a batch at a time, when a worker first needs one of the batch.
    const urls = new Map(); // part number -> {url, headers}
    const batches = new Map(); // first part number of a batch -> its pending request
    async function sign(numbers) {
      const checksums = {};
      if (partChecksum) {
        const digests = await Promise.all(numbers.map((number) => partChecksum(number)));
        numbers.forEach((number, index) => {
          if (digests[index]) checksums[String(number)] = digests[index];
        });
      }
      const response = await callApi(`${apiUrl}/${plan.id}/parts`, {
        method: "POST",
        body: JSON.stringify({ part_numbers: numbers, checksums }),
      }).catch(() => null);
      if (!response) throw new UploadError("The server could not be reached.", "send_failed");
      if (!response.ok) {
        throw new UploadError(await apiErrorMessage(response), response.status >= 500 ? "send_failed" : "store_refused", response.status);
      }
      for (const part of (await response.json()).parts) urls.set(part.part_number, part);
    }
    function urlFor(number) {
      if (urls.has(number)) return Promise.resolve(urls.get(number));
      const index = missing.indexOf(number);
      const [start, length] = batchOf(index);
      const first = missing[start];
      if (!batches.has(first)) {
        const numbers = missing.slice(start, start + length);
        batches.set(first, sign(numbers).finally(() => batches.delete(first)));
      }
      return batches.get(first).then(() => urls.get(number) || sign([number]).then(() => urls.get(number)));
    }

    // One PUT of one part, with the headers it was signed with: resolve on 2xx; reject with
    // {status} (0 for a network error).
    async function put({ url, headers }, blob, number) {
      const progress = (event) => {
        inFlight.set(number, event.loaded);
        report();
      };
      try {
        const xhr = await send("PUT", url, blob, { headers, onProgress: progress, signal });
        if (xhr.status >= 300) throw { status: xhr.status, xhr };
      } finally {
        inFlight.delete(number);
      }
    }

    async function sendPart(number) {
      const [start, end] = partRange(number);
      const blob = file.slice(start, end);
      for (let attempt = 0; ; attempt += 1) {
        if (signal?.aborted) throw cancelled();
        try {
          await put(await urlFor(number), blob, number);
          done += end - start;
          report();
          return;
        } catch (failure) {
          if (failure instanceof UploadError) throw failure;
          if (signal?.aborted) throw cancelled();
          if (failure.status === 403 && attempt === 0) {
            urls.delete(number); // an expired URL: sign it again, once
            continue;
          }
          const retryable = failure.status === 0 || failure.status >= 500;
          if (failure.status >= 400 && failure.status < 500) {
            throw new UploadError(`Storage refused part ${number} (${failure.status}).`, "store_refused", failure.status);
          }
          if (!retryable || attempt >= retryDelays.length) {
            throw new UploadError(
              "The connection to storage broke; choose the same file again to resume.",
              "send_failed",
              failure.status,
            );
          }
          await sleep(retryDelays[attempt]);
        }
      }
    }

    const queue = missing.slice();
    let firstError = null;
    async function worker() {
      while (queue.length && !firstError) {
        const number = queue.shift();
        try {
          await sendPart(number);
        } catch (error) {
          firstError = firstError || error;
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, missing.length) }, worker));
    if (firstError) throw firstError;
  }

  window.UploadMultipart = { storedParts, sendParts, CONCURRENCY };
})();
