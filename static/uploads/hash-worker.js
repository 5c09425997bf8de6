// A Web Worker that hashes files with SHA-256, off the page's thread so the transfer and the page
// never wait for it. Each byte is read once and hashed once per digest asked for:
//   - a part's digest: the browser's own SHA-256 (crypto.subtle, native code: SHA-NI where the CPU
//     has it, several times hash-wasm's speed) on the part read whole, when parts are small enough
//     to hold (NATIVE_PART_MAX) and the page is a secure context; else hash-wasm, incrementally;
//   - the whole file's digest: hash-wasm (WebAssembly, incremental: files of any size), fed the
//     same bytes in file order.
//   {type: "init", lib}                      load hash-wasm's sha256 build from `lib` (same origin)
//   {type: "hash", id, file, partSize}       read `file` once, in order; answer
//      {type: "part", id, number, digest}    as each part of `partSize` bytes is hashed (if partSize)
//      {type: "done", id, digest}            the whole file's digest
//      {type: "error", id, message}
// Digests are base64, as S3 writes x-amz-checksum-sha256. Jobs run one at a time (bounded memory).
"use strict";

const CHUNK = 4 * 1024 * 1024;
const NATIVE_PART_MAX = 64 * 1024 * 1024; // a part read whole into memory, at most (one ahead)
let queue = Promise.resolve();

function base64(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

// Parts read whole, each digested natively, the whole file fed the same buffer; the next part is
// read while this one is hashed, and a part's digest is posted before the whole file's hash takes
// its bytes, so the page can sign and send the part as early as possible.
async function hashInParts(id, file, partSize, whole) {
  const read = (number) => {
    const start = (number - 1) * partSize;
    return file.slice(start, Math.min(start + partSize, file.size)).arrayBuffer();
  };
  const count = Math.max(1, Math.ceil(file.size / partSize));
  let next = read(1);
  for (let number = 1; number <= count; number += 1) {
    const buffer = await next;
    next = number < count ? read(number + 1) : null;
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    self.postMessage({ type: "part", id, number, digest: base64(new Uint8Array(digest)) });
    whole.update(new Uint8Array(buffer));
  }
}

// Both digests in hash-wasm, a CHUNK at a time: parts too large to hold, or no crypto.subtle.
async function hashInChunks(id, file, partSize, whole) {
  const part = partSize ? await self.hashwasm.createSHA256() : null;
  part?.init();
  let offset = 0;
  let number = 1;
  while (offset < file.size) {
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
  }
  if (part && file.size === 0) self.postMessage({ type: "part", id, number, digest: base64(part.digest("binary")) });
}

async function hashFile(id, file, partSize) {
  const whole = await self.hashwasm.createSHA256();
  whole.init();
  if (partSize && partSize <= NATIVE_PART_MAX && self.crypto?.subtle) {
    await hashInParts(id, file, partSize, whole);
  } else {
    await hashInChunks(id, file, partSize, whole);
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
