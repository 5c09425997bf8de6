// The list's behaviour with JavaScript: Preview and Share answers (htmx, into #dialog-body) open
// in the page's <dialog>; a new share link is copied to the clipboard; row checkboxes count the
// selection and name it in the bulk delete's confirmation. Without JavaScript the same links and
// forms open pages of their own.
(function () {
  "use strict";

  const dialog = document.getElementById("dialog");
  const dialogBody = document.getElementById("dialog-body");
  if (!dialog || !dialogBody) return;
  document.documentElement.classList.add("js");
  let opener = null;

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.target === dialogBody && !dialog.open) opener = document.activeElement;
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === dialogBody) {
      if (!dialog.open) dialog.showModal();
      const link = dialogBody.querySelector("[data-share-url]");
      if (link) copy(link);
      else (dialogBody.querySelector("input:checked") || dialogBody.querySelector("form button, a") || dialog).focus();
    }
    if (event.detail.target.id === "upload-list") updateSelection();
  });

  dialog.addEventListener("close", () => {
    dialogBody.replaceChildren(); // stops a playing video, forgets the link
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  });

  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-dialog]") || event.target === dialog) dialog.close();
    const button = event.target.closest("[data-copy]");
    if (button) copy(dialogBody.querySelector(button.dataset.copy));
  });

  async function copy(field) {
    const status = dialogBody.querySelector("#copy-status");
    field.focus();
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = "Link copied to the clipboard.";
    } catch (_) {
      if (status) status.textContent = "Copy the selected link (Ctrl+C or ⌘C).";
    }
  }

  // --- The list poller ----------------------------------------------------------------------

  // It asks only while the tab is visible: cancelled here, since an hx-trigger filter needs eval
  // (which the Content-Security-Policy forbids). The next tick after the tab comes back asks.
  document.body.addEventListener("htmx:confirm", (event) => {
    if (event.target.id === "list-poller" && document.visibilityState !== "visible") event.preventDefault();
  });

  // --- Selection and bulk delete ------------------------------------------------------------

  const boxes = () => Array.from(document.querySelectorAll('input[name="ids"][form="bulk-form"]'));

  function updateSelection() {
    const form = document.getElementById("bulk-form");
    if (!form) return;
    const all = boxes();
    const picked = all.filter((box) => box.checked).length;
    const selectAll = document.getElementById("select-all");
    if (selectAll) {
      selectAll.checked = picked > 0 && picked === all.length;
      selectAll.indeterminate = picked > 0 && picked < all.length;
    }
    form.querySelector("#selection-count").textContent = picked
      ? `${picked} selected`
      : "Select files to delete several at once.";
    const button = form.querySelector("#bulk-delete");
    button.disabled = picked === 0;
    button.textContent = picked ? `Delete ${picked} selected` : "Delete selected";
    // The one confirmation says how many.
    form.setAttribute(
      "hx-confirm",
      `Delete ${picked} file${picked === 1 ? "" : "s"}? This cannot be undone.`,
    );
  }

  document.body.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      boxes().forEach((box) => {
        box.checked = event.target.checked;
      });
    }
    if (event.target.id === "select-all" || event.target.matches('input[name="ids"]')) updateSelection();
  });

  // "Load more" appends rows: the selection count follows.
  document.body.addEventListener("htmx:afterSettle", updateSelection);
  updateSelection();
})();
