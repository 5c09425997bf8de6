// The multipart protocol, for files the server chose to receive in parts (method "multipart"):
//   1. GET  {apiUrl}/{id}/parts                -> the plan and the parts the store already has (resume)
//   2. POST {apiUrl}/{id}/parts {part_numbers, checksums} -> URLs for up to plan.part_urls_per_request
//      parts, each signed for its length and, when the page hashed it (hashPart), its SHA-256
//   3. PUT each missing part to its URL, CONCURRENCY at a time; a network error or a 5xx is retried
//      with backoff, an expired URL (403) is signed again
// With hashing, each missing part is hashed in the hash worker before it is signed (its SHA-256
// pinned in the signature); the parts the store already has are never read. Each PUT sends the
// file's slice.
// upload-client.js then asks the server to complete it: the server lists the parts itself.
(function () {
  "use strict";

  const CONCURRENCY = 4;
  const HASHED_ROUND_MAX = 32; // parts signed at once with hashing: 256 MiB ahead at 8 MiB parts
  const THROTTLED_RETRIES = 3; // a /parts call refused 429 waits its Retry-After, this many times
  const { UploadError, cancelled, sleep, callApi, apiErrorMessage, send } = window.UploadTransport;

  // Resolve with the parts the store has; reject with the API's refusal (the caller starts afresh).
  async function storedParts(id, apiUrl) {
    const response = await callApi(`${apiUrl}/${id}/parts`, { method: "GET" });
    if (!response.ok) throw Object.assign(new Error("not resumable"), { status: response.status });
    return response.json(); // {part_size, parts_count, part_urls_per_request, parts: [{part_number, size, etag}]}
  }

  // At most `limit` parts held at once (read, signed or being sent): acquire() waits for a slot.
  function slots(limit) {
    let held = 0;
    const waiting = [];
    return {
      async acquire() {
        while (held >= limit) await new Promise((resolve) => waiting.push(resolve));
        held += 1;
      },
      release() {
        held -= 1;
        waiting.shift()?.();
      },
    };
  }

  // The parts ready to send, in order; take() resolves with null once closed and empty.
  function channel() {
    const items = [];
    const takers = [];
    let closed = false;
    return {
      put: (item) => (takers.length ? takers.shift()(item) : items.push(item)),
      take: () => (items.length ? Promise.resolve(items.shift()) : closed ? Promise.resolve(null) : new Promise((resolve) => takers.push(resolve))),
      close() {
        closed = true;
        for (const taker of takers.splice(0)) taker(null);
      },
    };
  }

  // Send every part the store lacks. `plan` is {id, part_size, parts_count, part_urls_per_request}; `stored` the parts
  // the store already has. Progress counts the stored parts as sent. `hashPart(start, end)`, when
  // given, resolves with the part's SHA-256 (hashing.js's part): each part is then signed for it.
  async function sendParts(plan, file, stored, { apiUrl, onProgress, signal, retryDelays, hashPart = null }) {
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

    // Parts are signed a round at a time, as many as one POST /parts signs. With hashing each part
    // waits for its digest, so the first round is CONCURRENCY parts (the transfer starts after
    // hashing 4 parts, not 100) and each next one twice the last: hashing runs several times faster
    // than the network, so later rounds are ready before they are needed, and a GiB costs 7 calls
    // to /parts (its rate limit counts them), not 32.
    const roundMax = hashPart ? Math.min(HASHED_ROUND_MAX, plan.part_urls_per_request) : plan.part_urls_per_request;
    let round = hashPart ? Math.min(CONCURRENCY, roundMax) : roundMax;
    // Parts hashed or signed ahead of sending (slices: no bytes are held). Room for the round being
    // sent and the next, twice as large, so the next is hashed whole while this one is sent: with
    // room for less, the senders sat idle at each round's start while its last parts were hashed.
    const held = slots(3 * roundMax + CONCURRENCY);
    const ready = channel();
    let firstError = null;

    // Resolve with {number: {url, headers}} for `numbers`, each signed for its checksum if any.
    async function sign(numbers, checksums = {}) {
      let response;
      for (let attempt = 0; ; attempt += 1) {
        response = await callApi(`${apiUrl}/${plan.id}/parts`, {
          method: "POST",
          body: JSON.stringify({ part_numbers: numbers, checksums }),
        }).catch(() => null);
        if (response?.status !== 429 || attempt >= THROTTLED_RETRIES || signal?.aborted) break;
        await sleep(1000 * Math.min(60, Number(response.headers.get("Retry-After")) || 1));
      }
      if (!response) throw new UploadError("The server could not be reached.", "send_failed");
      if (!response.ok) {
        throw new UploadError(await apiErrorMessage(response), response.status >= 500 ? "send_failed" : "store_refused", response.status);
      }
      const urls = new Map();
      for (const part of (await response.json()).parts) urls.set(part.part_number, part);
      return urls;
    }

    // A part's body (the file's slice) and digest ("" without hashing, or if hashing failed: then
    // it goes without a checksum, and the server's worker still records the file's).
    async function prepare(number) {
      const [start, end] = partRange(number);
      const body = file.slice(start, end);
      if (!hashPart) return { number, body, digest: "" };
      try {
        return { number, body, digest: await hashPart(start, end) };
      } catch (_) {
        return { number, body, digest: "" };
      }
    }

    async function produce() {
      for (let first = 0; first < missing.length; first += round, round = Math.min(round * 2, roundMax)) {
        const numbers = missing.slice(first, first + round);
        const preparing = [];
        for (const number of numbers) {
          await held.acquire();
          if (firstError || signal?.aborted) return;
          preparing.push(prepare(number));
        }
        const parts = await Promise.all(preparing);
        const checksums = {};
        for (const part of parts) if (part.digest) checksums[String(part.number)] = part.digest;
        const urls = await sign(numbers, checksums);
        for (const part of parts) ready.put({ ...part, signed: urls.get(part.number) });
      }
    }

    // One PUT of one part, with the headers it was signed with: resolve on 2xx; reject with
    // {status} (0 for a network error).
    async function put({ url, headers }, body, number) {
      const progress = (event) => {
        inFlight.set(number, event.loaded);
        report();
      };
      try {
        const xhr = await send("PUT", url, body, { headers, onProgress: progress, signal });
        if (xhr.status >= 300) throw { status: xhr.status, xhr };
      } finally {
        inFlight.delete(number);
      }
    }

    async function sendPart(part) {
      const { number, body, digest } = part;
      for (let attempt = 0; ; attempt += 1) {
        if (signal?.aborted) throw cancelled();
        try {
          if (!part.signed) part.signed = (await sign([number], digest ? { [number]: digest } : {})).get(number);
          await put(part.signed, body, number);
          done += length(number);
          report();
          return;
        } catch (failure) {
          if (failure instanceof UploadError) throw failure;
          if (signal?.aborted) throw cancelled();
          if (failure.status === 403 && attempt === 0) {
            part.signed = null; // an expired URL: sign it again, once
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

    // After a failure the senders still take what is ready (sending none of it), so their slots
    // come back and the producer, waiting for one, sees the failure and stops.
    async function sender() {
      for (let part = await ready.take(); part; part = await ready.take()) {
        try {
          if (!firstError) await sendPart(part);
        } catch (error) {
          firstError = firstError || error;
        } finally {
          held.release();
        }
      }
    }

    const producing = produce()
      .catch((error) => {
        firstError = firstError || error;
      })
      .finally(() => ready.close());
    await Promise.all([producing, ...Array.from({ length: Math.min(CONCURRENCY, missing.length) }, sender)]);
    if (firstError) throw firstError;
  }

  window.UploadMultipart = { storedParts, sendParts, CONCURRENCY };
})();
