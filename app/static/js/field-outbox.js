// Field outbox: what the advisor enters at the car (answers, odometer, fuel, marks,
// belongings, 5W2H) is never lost to a dropped Wi-Fi or a reload. Each htmx save of the
// check-in is written to IndexedDB under its own change id before it is sent, sent in
// order, and forgotten only when the server acknowledged it. The server applies a change
// id once (app/services/check_in_changes.py), so a copy sent after a lost answer is safe.
// Storage is field-outbox-store.js; how the page shows what still waits, field-outbox-view.js.
(function () {
  "use strict";
  if (window.walkaroundFieldOutbox || !window.walkaroundFieldStore) return;

  var TIMEOUT_MS = 30000;
  var BACKOFF_MAX_MS = 60000;
  var TIMER_MS = 15000;
  // One tap can fire two changes of one form: typing the odometer, then tapping a fuel
  // button, blurs the odometer (change) and picks the fuel (change). Each save sends the
  // whole form, so the later one carries the earlier: a change made during a tap waits
  // this long for the tap's next change, and the two are sent as one.
  var SETTLE_MS = 150;
  var PRESS_MAX_MS = 1500;
  var KEEP_SENT_MS = 12 * 3600 * 1000;
  var VERSION_HEADER = "X-Check-In-Version";
  var NOT_SENT = { _csrf_token: 1, version: 1, change_id: 1 };

  var store = window.walkaroundFieldStore;
  var putAll = store.putAll, remove = store.remove, allItems = store.all;

  // --- the page ---

  function root() { return document.querySelector("[data-check-in]"); }

  function pageVersion() {
    var el = document.getElementById("version");
    return el ? parseInt(el.value, 10) || 0 : 0;
  }

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      return headers["x-csrftoken"] || "";
    } catch (e) { return ""; }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    return Array.from(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
  }

  var counter = 0;

  function view() { return window.walkaroundFieldView || null; }

  // --- capture: every htmx POST inside the check-in, except data-send-now ---

  document.addEventListener("htmx:configRequest", function (evt) {
    var d = evt.detail, elt = d.elt;
    var here = elt && elt.closest && elt.closest("[data-check-in]");
    if (!here || String(d.verb).toLowerCase() !== "post") return;
    if (elt.closest("[data-send-now]")) {
      if (waiting > 0) { // the step is finished only after everything before it arrived
        evt.preventDefault();
        finishAfterFlush(elt.closest("form") || elt);
      }
      return;
    }
    evt.preventDefault();
    var fields = [];
    (d.formData ? Array.from(d.formData.entries()) : []).forEach(function (pair) {
      if (typeof pair[1] === "string" && !NOT_SENT[pair[0]]) fields.push(pair);
    });
    var target = d.target && d.target.id ? "#" + d.target.id : null;
    var swapAt = elt.closest("[hx-swap]");
    var whole = elt.tagName === "FORM" && /^\s*change\s*$/.test(elt.getAttribute("hx-trigger") || "");
    var item = {
      id: newId(), seq: Date.now() * 1000 + (counter++ % 1000), check_in: here.dataset.checkIn,
      url: d.path, fields: fields, target: target, page: location.pathname,
      swap: (swapAt && swapAt.getAttribute("hx-swap")) || "innerHTML",
      base: pageVersion(), state: "waiting", version: null, at: Date.now(), whole: whole,
      press: pressing && Date.now() - pressAt < PRESS_MAX_MS ? press : 0,
    };
    var saved = document.getElementById("save-state");
    if (saved) saved.textContent = "";
    putAll([item]).then(function () { return whole && item.press ? supersede(item) : null; })
      .then(refresh).then(function () {
        afterChange();
        if (!item.press) {
          flush();
          return;
        }
        clearTimeout(settleTimer);
        settleTimer = setTimeout(flush, SETTLE_MS);
      });
  });

  // A tap: from the finger down to its click (a pan ends in pointercancel).
  var press = 0;
  var pressing = false;
  var pressAt = 0;
  document.addEventListener("pointerdown", function () {
    press++;
    pressing = true;
    pressAt = Date.now();
  }, true);
  document.addEventListener("pointercancel", function () { pressing = false; }, true);
  document.addEventListener("click", function () {
    setTimeout(function () { pressing = false; }, 0); // after the click's own change
  }, true);

  // A whole-form save replaces a save of the same form made in the same tap and not tried
  // yet. Separate actions stay separate changes (offline, each one waits in order).
  var superseded = {};
  var tried = {};
  var settleTimer = null;

  function supersede(item) {
    return allItems().then(function (all) {
      var older = all.filter(function (it) {
        return it.state === "waiting" && it.whole && it.id !== item.id && !tried[it.id] &&
          it.press === item.press && it.url === item.url && it.check_in === item.check_in &&
          it.seq < item.seq;
      }).map(function (it) { return it.id; });
      older.forEach(function (id) { superseded[id] = true; });
      return older.length ? remove(older) : null;
    });
  }

  // --- sending, in order ---

  var items = []; // the last read of the store
  var waiting = 0;
  var failing = false;
  var running = null;
  var rerun = false;
  var streak = 0;
  var retryTimer = null;
  var retryAt = 0;

  var fresh = {}; // regions redrawn from the server since the page loaded
  var chains = {}; // check-in -> the version this tablet's last acknowledged change made

  function pending() {
    return { items: items, pageVersion: loadedVersion, fresh: fresh };
  }

  function refresh() {
    return allItems().then(function (all) {
      items = all;
      waiting = all.filter(function (it) { return it.state === "waiting"; }).length;
      if (view()) view().status(waiting, failing);
      document.dispatchEvent(new CustomEvent("walkaround:fields", { detail: { waiting: waiting } }));
      return all;
    });
  }

  function sourceOf(item) {
    var here = root();
    if (!here || here.dataset.checkIn !== String(item.check_in)) return null;
    return here.querySelector('[hx-post="' + item.url.replace(/"/g, '\\"') + '"]');
  }

  function triggers(res, source) {
    var raw = res.headers.get("HX-Trigger");
    if (!raw || !window.htmx) return;
    try {
      var events = JSON.parse(raw);
      Object.keys(events).forEach(function (name) {
        htmx.trigger(source || document.body, name, events[name]);
      });
    } catch (e) { /* not ours */ }
  }

  function drained(res, outcome) {
    return res.text().then(function () { return outcome; }, function () { return outcome; });
  }

  // Outcome: {ok, version, html} | {conflict} | {rejected} | {retry, wait}
  function send(item) {
    var body = new URLSearchParams();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    // The version the page showed when the change was made, or the one this tablet's
    // change before it made, whichever is newer: changes from one tablet never conflict
    // with each other, a change from another tablet still does.
    body.set("version", String(Math.max(item.base, chains[item.check_in] || 0)));
    body.set("change_id", item.id);
    var abort = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (abort) abort.abort(); }, TIMEOUT_MS);
    return fetch(item.url, {
      method: "POST", body: body, credentials: "same-origin", signal: abort && abort.signal,
      headers: { "HX-Request": "true", "HX-Current-URL": location.href, "x-csrftoken": csrfToken() },
    }).then(function (res) {
      clearTimeout(timer);
      var version = parseInt(res.headers.get(VERSION_HEADER) || "", 10);
      var redirect = res.headers.get("HX-Redirect");
      if (redirect) { // signed out: sign in and come back here; the change waits meanwhile
        location.href = /^\/sign-in/.test(redirect)
          ? "/sign-in?next=" + encodeURIComponent(location.pathname) : redirect;
        return { retry: true };
      }
      if (res.ok && version > 0) {
        return res.text().then(function (html) { return { ok: true, version: version, html: html, res: res }; });
      }
      // Every answer's body is read to its end, so the connection is let go at once.
      if (res.status === 409) return drained(res, { conflict: true, res: res });
      // Refused for what it says (422, 404...): the field is marked and the change let go.
      // Refused for who sends it (a form from before a new sign-in, customer mode): the
      // change is fine and waits until the page is reloaded or the advisor is back.
      if (res.status >= 400 && res.status < 500 && [401, 403, 408, 429].indexOf(res.status) < 0) {
        return drained(res, { rejected: true, res: res });
      }
      var after = parseInt(res.headers.get("Retry-After") || "", 10);
      return drained(res, { retry: true, wait: after > 0 ? after * 1000 : 0, res: res });
    }, function () {
      clearTimeout(timer);
      return { retry: true };
    });
  }

  // The answer goes on the page at once (what the advisor reads back must be current);
  // then the change is marked sent. A reload in between only sends a copy, applied once.
  function acknowledged(item, res) {
    show(item, res);
    item.state = "sent";
    item.version = res.version;
    item.sent_at = Date.now();
    chains[item.check_in] = Math.max(chains[item.check_in] || 0, res.version);
    var chain = { id: "chain:" + item.check_in, state: "chain", check_in: item.check_in,
                  version: chains[item.check_in], seq: 0, sent_at: Date.now() };
    return putAll([item, chain]);
  }

  function show(item, res) {
    var here = root();
    if (!here || here.dataset.checkIn !== String(item.check_in) || !window.htmx) return;
    // The answer's region if this page shows it; its out-of-band parts (#version) always.
    var target = item.swap !== "none" && item.target && document.querySelector(item.target);
    // An answer can come long after its change: keep what is being typed in the region.
    var typing = document.activeElement;
    var kept = target && typing && typing.id && target.contains(typing) && "value" in typing
      ? { id: typing.id, value: typing.value } : null;
    var source = sourceOf(item);
    var entered = target ? typedIn(target, source && (source.closest("form") || source), item.at) : [];
    htmx.swap(target || document.body, res.html, { swapStyle: target ? item.swap : "none" });
    if (target) fresh[item.target] = true;
    source = sourceOf(item);
    if (source && window.walkaroundFields) window.walkaroundFields.clear(source.closest("form") || source);
    triggers(res.res, source);
    var again = kept && document.getElementById(kept.id);
    if (again && again.value !== kept.value) {
      again.value = kept.value;
      again.dispatchEvent(new Event("change", { bubbles: true }));
    }
    putBack(entered); // after the field being typed in, whose change saves it
  }

  // What the advisor typed or picked, and when. An answer can redraw a region while the
  // next entry is half made in it (the next belonging picked and counted when the answer to
  // the one before arrives): what was entered there is put back in the redrawn region.
  // Only what was entered since this change was made counts in the form it came from
  // (what it sent is what the redraw replaces); elsewhere in the region, anything entered.
  function noteTyped(evt) { if (evt.target && evt.target.name) evt.target.walkaroundTypedAt = Date.now(); }
  document.addEventListener("input", noteTyped, true);
  document.addEventListener("change", noteTyped, true);

  function typedIn(region, sourceForm, since) {
    var entered = [];
    region.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      var at = el.walkaroundTypedAt;
      if (!at || /^(hidden|file|submit|button)$/.test(el.type)) return;
      var owner = el.closest("[hx-post]");
      if (!owner || (owner === sourceForm && at <= (since || 0))) return;
      var check = el.type === "checkbox" || el.type === "radio";
      entered.push({ post: owner.getAttribute("hx-post"), name: el.name, check: check,
                     value: el.value, checked: el.checked, at: at });
    });
    return entered;
  }

  function putBack(entered) {
    entered.forEach(function (e) {
      var owner = document.querySelector('[hx-post="' + e.post.replace(/"/g, '\\"') + '"]');
      if (!owner) return;
      Array.prototype.forEach.call(owner.querySelectorAll("[name]"), function (el) {
        if (el.name !== e.name || el.type === "hidden") return;
        if (e.check) { if (el.value === e.value) el.checked = e.checked; }
        else el.value = e.value;
        el.walkaroundTypedAt = e.at;
      });
    });
  }

  function drain() {
    return refresh().then(function () {
      var queue = items.filter(function (it) { return it.state === "waiting"; });
      var next = function () {
        var item = queue.shift();
        if (!item) return undefined;
        if (superseded[item.id]) return next();
        tried[item.id] = true;
        return send(item).then(function (res) {
          if (res.ok) {
            streak = 0;
            failing = false;
            return acknowledged(item, res).then(refresh).then(afterChange).then(next);
          }
          if (res.conflict || res.rejected) {
            streak = 0;
            failing = false;
            triggers(res.res, sourceOf(item));
            // Another tablet changed the check-in: what this one still holds for it was
            // made on a state that is gone. The toast says so and offers the reload.
            var dropped = res.conflict ? queue.filter(function (it) {
              return it.check_in === item.check_in;
            }) : [];
            queue = queue.filter(function (it) { return dropped.indexOf(it) < 0; });
            return remove([item.id].concat(dropped.map(function (it) { return it.id; })))
              .then(refresh).then(afterChange).then(next);
          }
          if (res.res && res.res.status === 403 && !streak) triggers(res.res, sourceOf(item));
          streak++;
          failing = true;
          rerun = false;
          backoff(res.wait);
          return refresh();
        });
      };
      return next();
    });
  }

  function afterChange() {
    if (view()) view().render(pending());
  }

  function backoff(minWait) {
    var base = Math.min(BACKOFF_MAX_MS, 1000 * Math.pow(2, Math.max(0, streak - 1)));
    var delay = Math.min(BACKOFF_MAX_MS, Math.max(minWait || 0, base * (0.8 + Math.random() * 0.4)));
    clearTimeout(retryTimer);
    retryAt = Date.now() + delay;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, delay);
  }

  // One pass at a time; a call during a pass asks for one more pass afterwards.
  function flush() {
    if (running) { rerun = true; return running; }
    running = (function loop() {
      rerun = false;
      clearTimeout(retryTimer);
      retryAt = 0;
      return drain().catch(function () {}).then(function () { return rerun ? loop() : undefined; });
    })().then(function () { running = null; return refresh(); }).then(function () {
      if (finishing && !waiting) {
        var form = finishing;
        finishing = null;
        if (form.isConnected) form.requestSubmit();
      }
      return waiting;
    });
    return running;
  }

  // "Next step" waits for what is still on its way, then goes on by itself.
  var finishing = null;

  function finishAfterFlush(form) {
    if (view()) view().finishWaits(waiting);
    finishing = form;
    flush();
  }

  // --- start: a reload shows what is still on its way, then keeps sending ---

  var loadedVersion = 0;

  function init() {
    loadedVersion = pageVersion();
    var here = root();
    refresh().then(function (all) {
      // A sent change the page already shows (or an old one) need not be kept. Only the
      // page it was made on shows it: that step's page the service worker keeps may still
      // be older, and a save from it would undo the change if nothing filled it back in.
      var old = all.filter(function (it) {
        var shown = it.state === "sent" && here && it.check_in === here.dataset.checkIn &&
          it.version <= loadedVersion && (!it.page || it.page === location.pathname);
        return shown || (it.state !== "waiting" && Date.now() - (it.sent_at || 0) > KEEP_SENT_MS);
      });
      all.forEach(function (it) { if (it.state === "chain") chains[it.check_in] = it.version; });
      return remove(old.map(function (it) { return it.id; }));
    }).then(refresh).then(function () {
      // A page the service worker kept may be older than what this tablet already saved.
      var el = document.getElementById("version");
      var known = here && chains[here.dataset.checkIn];
      if (el && known > pageVersion()) el.value = String(known);
      afterChange();
      flush();
    });
  }

  window.addEventListener("online", function () { streak = 0; flush(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !running && Date.now() >= retryAt) flush();
  });
  setInterval(function () { if (!running && Date.now() >= retryAt) flush(); }, TIMER_MS);

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  window.walkaroundFieldOutbox = {
    count: function () { return refresh().then(function () { return waiting; }); },
    flush: flush,
  };
})();
