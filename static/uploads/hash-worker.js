// A Web Worker that hashes files with SHA-256 (hash-wasm: WebAssembly, incremental, any size),
// off the page's thread so the transfer and the page never wait for it.
//   {type: "init", lib}                      load hash-wasm's sha256 build from `lib` (same origin)
//   {type: "hash", id, file, partSize}       read `file` once, in order; answer
//      {type: "part", id, number, digest}    as each part of `partSize` bytes is hashed (if partSize)
//      {type: "done", id, digest}            the whole file's digest
//      {type: "error", id, message}
// Digests are base64, as S3 writes x-amz-checksum-sha256. Jobs run one at a time (bounded memory).
"use strict";

const CHUNK = 4 * 1024 * 1024;
let queue = Promise.resolve();

function base64(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

async function hashFile(id, file, partSize) {
  const whole = await self.hashwasm.createSHA256();
  const part = partSize ? await self.hashwasm.createSHA256() : null;
  whole.init();
  part?.init();
  let offset = 0;
  let number = 1;
  while (offset < file.size || (offset === 0 && file.size === 0)) {
    const boundary = partSize ? number * partSize : file.size;
    const end = Math.min(offset + CHUNK, boundary, file.size);
    const chunk = new Uint8Array(await file.slice(offset, end).arrayBuffer());
    whole.update(chunk);
    part?.update(chunk);
    offset = end;
    if (part && (offset === boundary || offset === file.size)) {
      self.postMessage({ type: "part", id, number, digest: base64(part.digest("binary")) });
      part.init();
      number += 1;
    }
    if (file.size === 0) break;
  }
  self.postMessage({ type: "done", id, digest: base64(whole.digest("binary")) });
}

self.addEventListener("message", (event) => {
  const message = event.data;
  if (message.type === "init") {
    importScripts(message.lib);
    return;
  }
  if (message.type !== "hash") return;
  queue = queue
    .then(() => hashFile(message.id, message.file, message.partSize || 0))
    .catch((error) => self.postMessage({ type: "error", id: message.id, message: String(error) }));
});
