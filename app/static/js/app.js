// Walkaround shell behaviour: toasts, htmx error handling, service worker.
(function () {
  "use strict";

  function toast(message, level, reload) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "error");
    el.setAttribute("role", level === "ok" ? "status" : "alert");
    var text = document.createElement("span");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", document.body.dataset.closeLabel || "Close");
    close.addEventListener("click", function () { el.remove(); });
    el.appendChild(text);
    if (reload) {
      var again = document.createElement("button");
      again.type = "button";
      again.textContent = document.body.dataset.reloadLabel || "Reload";
      again.addEventListener("click", function () { location.reload(); });
      el.appendChild(again);
    }
    el.appendChild(close);
    box.appendChild(el);
    if (!reload) setTimeout(function () { el.remove(); }, 8000);
  }
  window.walkaroundToast = toast;

  // Server-side errors arrive as an HX-Trigger "wa:toast" event with the message.
  document.body.addEventListener("wa:toast", function (evt) {
    toast(evt.detail.message, evt.detail.level, evt.detail.reload);
    var slot = evt.detail.field && document.getElementById("error-" + evt.detail.field);
    if (slot) slot.textContent = evt.detail.message;
  });
  // A save that went through clears the field messages of its form. When the
  // form itself was swapped out, htmx reports an ancestor (e.g. <main>) here:
  // leave the rest of the page's messages alone then.
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    if (!evt.detail.successful || !evt.detail.elt.querySelectorAll) return;
    var sender = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    if (sender && sender !== evt.detail.elt) return;
    evt.detail.elt.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
  });
  // Live regions (data-live-refresh) skip a refresh while someone is typing or has
  // chosen something in one of their forms: the swap would wipe it. Here rather than
  // an hx-trigger filter, which htmx would have to eval (the CSP forbids eval).
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-live-refresh")) return;
    if (elt.querySelector("[required]:valid, :focus:is(input, textarea, select)")) {
      evt.preventDefault();
    }
  });
  // A lost network is not a server error: say so in the user's language.
  // Background polling (data-quiet-errors) retries by itself: no toast every 30 s.
  document.body.addEventListener("htmx:sendError", function (evt) {
    if (evt.detail.elt && evt.detail.elt.hasAttribute("data-quiet-errors")) return;
    toast(document.body.dataset.offlineMessage, "error");
  });
  document.body.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && !xhr.getResponseHeader("HX-Trigger")) {
      toast(document.body.dataset.errorMessage, "error");
    }
  });

  // The tablet may be in the customer's hands by now: a page brought back from the
  // back/forward cache is a picture of the past (some browsers keep even no-store
  // pages there). Hide it on the way in and ask the server, which answers with what
  // may be shown now (the customer's review while customer mode lasts).
  window.addEventListener("pagehide", function (evt) {
    if (evt.persisted) document.documentElement.style.visibility = "hidden";
  });
  window.addEventListener("pageshow", function (evt) {
    if (evt.persisted) location.reload();
  });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
})();
