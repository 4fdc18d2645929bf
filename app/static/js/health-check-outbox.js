// Health-check outbox: an item's answer typed in the bay is never lost to a dropped Wi-Fi
// or a reload. Each item's form saves itself through htmx; a save the network did not
// carry is kept in IndexedDB under the item's URL (the latest answer per item: each save
// sends the whole item), shown as waiting, put back into its form after a reload, and sent
// again when the network returns. The server takes a resent answer it already holds as
// saved (the same colour, number and note), so a copy sent after a lost reply is safe.
(function () {
  "use strict";
  if (window.walkaroundHealthOutbox || !window.walkaroundIdb) return;
  var idb = window.walkaroundIdb("walkaround-health-check", "answers", "url");
  var memory = {}; // where IndexedDB is refused (private mode)
  var RETRY_MS = 15000;
  var FIELDS = ["colour", "measurement", "note", "version"];

  function formFor(url) { return document.querySelector("form.hc-form[hx-post='" + url + "']"); }

  function values(form) {
    var out = {};
    new FormData(form).forEach(function (v, k) { if (FIELDS.indexOf(k) >= 0) out[k] = String(v); });
    return out;
  }

  function put(entry) {
    memory[entry.url] = entry;
    return idb.run("readwrite", function (store) { if (store) store.put(entry); });
  }
  function drop(url) {
    delete memory[url];
    return idb.run("readwrite", function (store) { if (store) store.delete(url); });
  }
  function all() {
    return idb.run("readonly", function (store) {
      if (!store) return Object.keys(memory).map(function (k) { return memory[k]; });
      return new Promise(function (resolve) {
        var req = store.getAll();
        req.onsuccess = function () { resolve(req.result || []); };
        req.onerror = function () { resolve([]); };
      });
    });
  }

  function mark(form, waiting) {
    if (form) form.toggleAttribute("data-waiting", waiting);
    showCount();
  }

  function showCount() {
    var status = document.querySelector("[data-hc-outbox-status]");
    var count = document.querySelectorAll("form.hc-form[data-waiting]").length;
    if (status) {
      status.hidden = count === 0;
      status.textContent = count ? status.dataset.msgWaiting.replace("{n}", count) : "";
    }
  }

  // Put a kept answer back into its form (after a reload the page shows the server's).
  function restore(form, entry) {
    Object.keys(entry.fields).forEach(function (name) {
      var inputs = form.querySelectorAll("[name='" + name + "']");
      Array.prototype.forEach.call(inputs, function (el) {
        if (el.type === "radio") el.checked = el.value === entry.fields[name];
        else el.value = entry.fields[name];
      });
    });
  }

  function resend() {
    if (navigator.onLine === false) return;
    all().then(function (entries) {
      entries.forEach(function (entry) {
        var form = formFor(entry.url);
        if (!form) return;
        restore(form, entry);
        window.htmx.trigger(form, "hc:resend");
      });
    });
  }

  document.body.addEventListener("htmx:sendError", function (evt) {
    var form = evt.detail.elt;
    if (!form || !form.matches || !form.matches("form.hc-form")) return;
    var url = form.getAttribute("hx-post");
    put({ url: url, fields: values(form), at: Date.now() });
    mark(form, true);
  });
  // Carried: saved, or refused with a message on the field (the user fixes it there).
  // beforeSwap, not afterRequest: the saved form is replaced by the server's, and an
  // event on the old one, out of the page by then, reaches no listener.
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var form = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    if (!form || !form.matches || !form.matches("form.hc-form") || !evt.detail.xhr) return;
    if (!evt.detail.xhr.status) return;
    drop(form.getAttribute("hx-post"));
    form.removeAttribute("data-waiting");
    setTimeout(showCount, 0); // after the swap
  });
  window.addEventListener("online", resend);
  setInterval(resend, RETRY_MS);
  // After a reload: what waited is shown in its form, marked, and sent again.
  all().then(function (entries) {
    entries.forEach(function (entry) {
      var form = formFor(entry.url);
      if (form) { restore(form, entry); mark(form, true); }
    });
    resend();
  });
  window.walkaroundHealthOutbox = { resend: resend, pending: all };
})();
