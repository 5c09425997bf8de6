// A Web Worker that hashes files with SHA-256, off the page's thread so the transfer and the page
// never wait for it.
//   {type: "init", lib}                         load hash-wasm's sha256 build from `lib` (same origin)
//   {type: "hash", id, file}                    the whole file's digest (a file sent in one request):
//      {type: "done", id, digest}               hash-wasm (WebAssembly, incremental: any size)
//   {type: "part", id, file, start, end}        one part of a multipart upload, read once:
//      {type: "done", id, digest, body}         the part's bytes read whole (at most NATIVE_PART_MAX),
//                                               digested by the browser's own SHA-256 (crypto.subtle:
//                                               native, SHA-NI where the CPU has it; hash-wasm where
//                                               the page is no secure context), and handed to the page
//                                               as a Blob made of that very buffer, to be the PUT's
//                                               body: the bytes hashed are the bytes sent, and the file
//                                               is not read again. A larger part is hashed a CHUNK at a
//                                               time and `body` is null (the page sends its slice).
// Why a Blob and not the ArrayBuffer itself (transferred, zero copy): Chromium's XHR sends an
// in-memory ArrayBuffer body at ~7 MiB/s of a whole core (measured: 128 MiB in 17-29 s, against
// 0.6-1.5 s as a Blob, with or without progress events); wrapping it costs one copy.
//   {type: "error", id, message}
// Digests are base64, as S3 writes x-amz-checksum-sha256. Whole-file jobs run one at a time; parts
// run as the page asks for them (it holds them until sent, so it bounds how many).
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
    self.postMessage({ type: "done", id, digest: base64(await wasmDigest(blob)), body: null });
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
  self.postMessage({ type: "done", id, digest: base64(digest), body: new Blob([buffer]) });
}

self.addEventListener("message", (event) => {
  const message = event.data;
  const fail = (error) => self.postMessage({ type: "error", id: message.id, message: String(error) });
  if (message.type === "init") {
    importScripts(message.lib);
  } else if (message.type === "hash") {
    queue = queue.then(() => hashFile(message.id, message.file)).catch(fail);
  } else if (message.type === "part") {
    hashPart(message.id, message.file, message.start, message.end).catch(fail);
  }
});
