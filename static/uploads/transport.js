// What upload-client.js and multipart.js share to talk to our API and to the store: the CSRF
// token, calls to the API and its refusals, one abortable XHR (fetch reports no upload progress),
// the error every failure becomes, and sleep. Loaded before both (templates, the widget's media).
(function () {
  "use strict";

  // Why an upload did not complete, and so what became of its record:
  //   not_signed        the API refused to sign it (or could not be reached): no record
  //   cancelled         the user cancelled before the file was stored: record deleted
  //   store_refused     the store refused the file: no object, record deleted
  //   send_failed       the connection to the store broke: the server decides later
  //   complete_refused  the server refused it (409: invalid or failed, marked so by the server)
  //   unchecked         stored, but the server could not check it yet: left pending
  class UploadError extends Error {
    constructor(message, reason, status = 0, code = "") {
      super(message);
      this.name = "UploadError";
      this.reason = reason;
      this.status = status;
      this.code = code; // the API's stable error code, when the API refused
    }
  }

  const cancelled = () => new UploadError("Cancelled.", "cancelled");
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Django's CSRF token: the page's <meta name="csrf-token"> (base.html), else a form's hidden
  // input (the admin's pages, where the widget runs), else the cookie.
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) return meta.content;
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) return input.value;
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // A call to our API: same-origin credentials, JSON, and the CSRF token.
  function callApi(url, options = {}) {
    return fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json", ...(options.headers || {}) },
    });
  }

  // Our API refuses with {"detail", "code"}: its sentence, or the status when it sent none.
  async function apiErrorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.detail) return body.detail;
    } catch (_) { /* not JSON */ }
    return `The server answered ${response.status}.`;
  }

  // An UploadError from our API's refusal, with its sentence and its code.
  async function apiError(response, reason) {
    let body = null;
    try {
      body = await response.json();
    } catch (_) { /* not JSON */ }
    const detail = body?.detail || `The server answered ${response.status}.`;
    return new UploadError(detail, reason, response.status, body?.code || "");
  }

  // One request to the store with upload progress and exactly the `headers` it was signed with.
  // Resolve with the XHR once answered (any status); reject with {status: 0} on a network error,
  // {status: 0, aborted: true} when `signal` aborts it.
  function send(method, url, body, { headers = {}, onProgress, signal } = {}) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject({ status: 0, aborted: true });
        return;
      }
      const xhr = new XMLHttpRequest();
      const abort = () => xhr.abort();
      signal?.addEventListener("abort", abort, { once: true });
      const settle = (fn, value) => {
        signal?.removeEventListener("abort", abort);
        fn(value);
      };
      if (onProgress) xhr.upload.addEventListener("progress", onProgress);
      xhr.addEventListener("load", () => settle(resolve, xhr));
      xhr.addEventListener("error", () => settle(reject, { status: 0 }));
      xhr.addEventListener("abort", () => settle(reject, { status: 0, aborted: true }));
      xhr.open(method, url);
      for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
      xhr.send(body);
    });
  }

  window.UploadTransport = { UploadError, cancelled, sleep, csrfToken, callApi, apiErrorMessage, apiError, send };
})();
