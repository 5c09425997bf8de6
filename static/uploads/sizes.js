// Sizes as people read them, in binary units named as such: the same words the server draws
// (uploads/templatetags/sizes.py), for the page's uploader and the UploadField widget alike.
(function () {
  "use strict";

  const UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB"];

  function formatBytes(bytes) {
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${UNITS[unit]}`;
  }

  window.UploadSizes = { formatBytes };
})();
