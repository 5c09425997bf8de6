// A Web Worker that hashes files with SHA-256, off the page's thread so the transfer and the page
// never wait for it.
//   {type: "init", lib}                         load hash-wasm's sha256 build from `lib` (same origin)
//   {type: "hash", id, file}                    the whole file's digest (a file sent in one request):
//      {type: "done", id, digest}               hash-wasm (WebAssembly, incremental: any size)
//   {type: "part", id, file, start, end}        one part of a multipart upload:
//      {type: "done", id, digest}               the part read whole (at most NATIVE_PART_MAX) and
//                                               digested by the browser's own SHA-256 (crypto.subtle:
//                                               native, SHA-NI where the CPU has it; hash-wasm where
//                                               the page is no secure context); a larger part is
//                                               hashed a CHUNK at a time.
// The page sends the part as the file's slice, not these bytes: Chromium's XHR sends an in-memory
// ArrayBuffer at ~7 MiB/s, and a Blob copied from it cost more CPU than reading the slice again
// (measured, 256 MiB: 2.8-2.9 against 2.4-2.7 browser CPU-s). Bytes that changed on disk since
// they were hashed still can't pass: the signature pins the digest (a verifying store refuses the
// PUT) and the server's worker checks every declared part.
//   {type: "error", id, message}
// Digests are base64, as S3 writes x-amz-checksum-sha256. Jobs run one at a time, in the order
// asked: one part's bytes in memory at a time, however far ahead the page asks.
"use strict";

const CHUNK = 4 * 1024 * 1024;
const NATIVE_PART_MAX = 64 * 1024 * 1024; // a part read whole into memory, at most
let queue = Promise.resolve();

function base64(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

// hash-wasm over a Blob, a CHUNK at a time.
async function wasmDigest(blob) {
  const digest = await self.hashwasm.createSHA256();
  digest.init();
  for (let offset = 0; offset < blob.size; offset += CHUNK) {
    digest.update(new Uint8Array(await blob.slice(offset, offset + CHUNK).arrayBuffer()));
  }
  return digest.digest("binary");
}

async function hashFile(id, file) {
  self.postMessage({ type: "done", id, digest: base64(await wasmDigest(file)) });
}

async function hashPart(id, file, start, end) {
  const blob = file.slice(start, end);
  if (blob.size > NATIVE_PART_MAX) {
    self.postMessage({ type: "done", id, digest: base64(await wasmDigest(blob)) });
    return;
  }
  const buffer = await blob.arrayBuffer();
  let digest;
  if (self.crypto?.subtle) {
    digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  } else {
    const wasm = await self.hashwasm.createSHA256();
    wasm.init();
    wasm.update(new Uint8Array(buffer));
    digest = wasm.digest("binary");
  }
  self.postMessage({ type: "done", id, digest: base64(digest) });
}

self.addEventListener("message", (event) => {
  const message = event.data;
  const fail = (error) => self.postMessage({ type: "error", id: message.id, message: String(error) });
  if (message.type === "init") {
    importScripts(message.lib);
  } else if (message.type === "hash") {
    queue = queue.then(() => hashFile(message.id, message.file)).catch(fail);
  } else if (message.type === "part") {
    queue = queue.then(() => hashPart(message.id, message.file, message.start, message.end)).catch(fail);
  }
});
