// Photo outbox: a photo the tablet took is never lost to a dropped Wi-Fi, a double
// tap, a retry or a server restart. Every photo is prepared for upload (photo-prepare.js:
// shrunk when that is safe, else left as taken), written to IndexedDB with a
// client-generated id, and only then uploaded; the server dedupes on that id.
(function () {
  "use strict";
  if (window.walkaroundOutbox) return; // included twice (e.g. by an htmx swap)

  var DB_NAME = "walkaround-outbox";
  var STORE = "photos";
  var TIMER_MS = 15000;
  var BACKOFF_MAX_MS = 60000;
  var XHR_TIMEOUT_MS = 120000;

  // --- storage: IndexedDB, or memory when the browser refuses it (private mode) ---

  var memory = new Map();
  var run = window.walkaroundIdb(DB_NAME, STORE, "client_id").run;

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function putItem(item) {
    return run("readwrite", function (store) {
      if (!store) { memory.set(item.client_id, item); return; }
      store.put(item);
    }).catch(function () {
      // Older Safari cannot store Blobs in IndexedDB: store the bytes instead.
      return readBytes(item.blob).then(function (bytes) {
        var copy = Object.assign({}, item, { blob: bytes, type: item.blob.type });
        return run("readwrite", function (store) { store.put(copy); });
      }).catch(function () { memory.set(item.client_id, item); });
    });
  }

  function getItem(id) {
    if (memory.has(id)) return Promise.resolve(memory.get(id));
    return run("readonly", function (store) {
      return store ? request(store.get(id)) : undefined;
    }).catch(function () { return undefined; });
  }

  function deleteItem(id) {
    memory.delete(id);
    return run("readwrite", function (store) {
      if (store) store.delete(id);
    }).catch(function () {});
  }

  function allItems() {
    return run("readonly", function (store) {
      return store ? request(store.getAll()) : [];
    }).catch(function () { return []; }).then(function (items) {
      var list = (items || []).concat(Array.from(memory.values()));
      return list.sort(function (a, b) { return a.created_at - b.created_at; });
    });
  }

  function readBytes(blob) {
    return new Response(blob).arrayBuffer();
  }

  function blobOf(item) {
    return item.blob instanceof Blob ? item.blob : new Blob([item.blob], { type: item.type || "" });
  }

  // --- what to upload: photo-prepare.js decides; without it, the file as taken ---

  function downscale(file) {
    var prepare = window.walkaroundPhotoPrepare && window.walkaroundPhotoPrepare.prepare;
    if (!prepare) return Promise.resolve(file);
    return prepare(file).then(function (result) { return result.blob; },
      function () { return file; });
  }

  // --- page helpers ---

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.from(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      return headers["x-csrftoken"] || headers["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  // One toast per slot at most (app.js shows one at a time anyway); a photo of the same
  // slot that arrives later takes it away.
  function toast(message, key) {
    if (message && typeof window.walkaroundToast === "function") {
      window.walkaroundToast(message, "error", false, key ? "photo:" + key : null);
    }
  }

  function untoast(key) {
    if (window.walkaroundToast && window.walkaroundToast.dismiss) window.walkaroundToast.dismiss("photo:" + key);
  }

  function cssEscape(s) {
    return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, "\\$&");
  }

  function slotKey(url, position, mark) {
    return [url || "", position || "", mark || ""].join("\n");
  }

  function slotFor(item) {
    var slots = document.querySelectorAll("[data-photo-slot]");
    var key = slotKey(item.upload_url, item.position, item.damage_mark);
    for (var i = 0; i < slots.length; i++) {
      var s = slots[i];
      if (slotKey(s.dataset.uploadUrl, s.dataset.position, s.dataset.damageMark) === key) return s;
    }
    return null;
  }

  function thumbsOf(slot) {
    return slot.querySelector("[data-photo-thumbs]") || slot;
  }

  function thumbImgs(id) {
    return document.querySelectorAll('img[data-client-id="' + cssEscape(id) + '"]');
  }

  var previewUrls = new Map(); // client_id -> object URL of the local preview

  function previewUrl(id, blob) {
    if (!previewUrls.has(id)) previewUrls.set(id, URL.createObjectURL(blob));
    return previewUrls.get(id);
  }

  function dropPreview(id) {
    if (previewUrls.has(id)) {
      URL.revokeObjectURL(previewUrls.get(id));
      previewUrls.delete(id);
    }
  }

  function renderThumb(slot, id, blob, state) {
    var thumbs = thumbsOf(slot);
    var existing = thumbs.querySelector('img[data-client-id="' + cssEscape(id) + '"]');
    if (existing) return existing;
    var wrap = document.createElement("span");
    wrap.className = "photo-thumb";
    wrap.setAttribute("data-outbox-thumb", "");
    var img = document.createElement("img");
    img.alt = "";
    img.setAttribute("data-client-id", id);
    img.setAttribute("data-state", state);
    if (blob) img.src = previewUrl(id, blob);
    var progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.hidden = true;
    wrap.appendChild(img);
    wrap.appendChild(progress);
    thumbs.appendChild(wrap);
    return img;
  }

  function forEachThumb(id, fn) {
    Array.prototype.forEach.call(thumbImgs(id), function (img) {
      fn(img, img.closest("[data-outbox-thumb]"));
    });
  }

  function setProgress(id, fraction) {
    forEachThumb(id, function (img, wrap) {
      var bar = wrap && wrap.querySelector("progress");
      if (!bar) return;
      if (fraction === null) { bar.hidden = true; return; }
      bar.hidden = false;
      if (fraction === undefined) bar.removeAttribute("value"); // indeterminate
      else bar.value = Math.round(fraction * 100);
    });
  }

  function showUploaded(id, data) {
    forEachThumb(id, function (img, wrap) {
      img.setAttribute("data-state", "uploaded");
      img.setAttribute("data-uploaded", "");
      if (data.id != null) img.setAttribute("data-photo-id", data.id);
      if (wrap) {
        var bar = wrap.querySelector("progress");
        if (bar) bar.remove();
      }
      if (data.thumb_url && img.getAttribute("src") !== data.thumb_url) {
        var local = img.src;
        img.onerror = function () { img.onerror = null; if (local) img.src = local; };
        img.src = data.thumb_url;
      }
    });
  }

  function showRejected(id, error, slot) {
    forEachThumb(id, function (img, wrap) {
      img.setAttribute("data-state", "rejected");
      img.title = error || "";
      if (!wrap) return;
      var bar = wrap.querySelector("progress");
      if (bar) bar.hidden = true;
      if (wrap.querySelector("[data-outbox-remove]")) return;
      var msg = document.createElement("span");
      msg.className = "photo-thumb-error";
      msg.textContent = error || "";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "photo-thumb-remove";
      remove.setAttribute("data-outbox-remove", "");
      remove.setAttribute("aria-label", (slot && slot.dataset.msgRemove) ||
        document.body.dataset.closeLabel || "Remove");
      remove.textContent = "×";
      wrap.appendChild(msg);
      wrap.appendChild(remove);
    });
  }

  // --- counts and the status line ---

  var lastCounts = null;
  var sending = false;
  var failing = false; // the last attempt failed: we are waiting for the network
  var serverNote = null; // why the server could not store it, when it said

  function statusEl() {
    return document.querySelector("[data-outbox-status]");
  }

  function refreshCounts() {
    return allItems().then(function (items) {
      var waiting = 0, rejected = 0;
      items.forEach(function (it) { if (it.state === "rejected") rejected++; else waiting++; });
      var counts = { waiting: waiting, rejected: rejected };
      renderStatus(waiting);
      if (!lastCounts || lastCounts.waiting !== waiting || lastCounts.rejected !== rejected) {
        lastCounts = counts;
        document.dispatchEvent(new CustomEvent("walkaround:outbox", { detail: counts }));
      }
      return counts;
    });
  }

  function renderStatus(n) {
    var el = statusEl();
    if (!el) return;
    if (!n) {
      el.hidden = true;
      el.textContent = "";
      el.removeAttribute("data-state");
      return;
    }
    var d = el.dataset;
    var template = sending && !failing && d.msgSending ? d.msgSending
      : n === 1 && d.msgOne ? d.msgOne : d.msgMany || "{n}";
    var text = template.replace(/\{n\}/g, String(n));
    el.textContent = failing && serverNote ? text + " — " + serverNote : text;
    el.setAttribute("data-state", sending && !failing ? "sending" : failing && serverNote ? "server" : "waiting");
    el.hidden = false;
  }

  // --- upload ---

  // Outcome: {ok, data} | {retry, wait} | {rejected, error}
  function send(item) {
    return new Promise(function (resolve) {
      var blob = blobOf(item);
      var form = new FormData();
      form.append("client_id", item.client_id);
      form.append("position", item.position || "");
      form.append("damage_mark_id", item.damage_mark || "");
      form.append("file", blob, item.filename || item.client_id + ".jpg");

      var xhr = new XMLHttpRequest();
      xhr.open("POST", item.upload_url);
      xhr.timeout = XHR_TIMEOUT_MS;
      xhr.setRequestHeader("Accept", "application/json");
      var token = csrfToken();
      if (token) xhr.setRequestHeader("x-csrftoken", token);
      xhr.upload.onprogress = function (e) {
        setProgress(item.client_id, e.lengthComputable ? e.loaded / e.total : undefined);
      };
      var retry = function () { resolve({ retry: true }); };
      xhr.onerror = retry;
      xhr.ontimeout = retry;
      xhr.onabort = retry;
      xhr.onload = function () {
        var status = xhr.status, data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (status === 200 || status === 201) {
          // A sign-in page or a proxy's HTML is not a receipt: only the server's JSON
          // for this very photo lets us forget it.
          var receipt = data && (data.client_id === item.client_id ||
            (data.client_id == null && data.id != null));
          if (receipt) {
            resolve({ ok: true, data: data });
          } else {
            retry();
          }
          return;
        }
        // 401: the photo is fine, the session is not. Keep it until someone signs in.
        if (status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429) {
          var error = (data && (data.error || data.detail)) || xhr.statusText || "HTTP " + status;
          resolve({ rejected: true, error: String(error) });
          return;
        }
        var after = parseInt(xhr.getResponseHeader("Retry-After") || "", 10);
        // The server is up but cannot store (disk full, database away): say what it said.
        var note = (status === 503 || status === 507) && data && data.error ? String(data.error) : null;
        resolve({ retry: true, wait: after > 0 ? after * 1000 : 0, note: note });
      };
      setProgress(item.client_id, 0);
      try {
        xhr.send(form);
      } catch (e) {
        retry();
      }
    });
  }

  var running = null;
  var rerun = false;
  var streak = 0; // consecutive failed attempts, for the back-off
  var retryTimer = null;
  var retryAt = 0;

  function backoff(minWait) {
    var base = Math.min(BACKOFF_MAX_MS, 1000 * Math.pow(2, Math.max(0, streak - 1)));
    var delay = Math.max(minWait || 0, base * (0.8 + Math.random() * 0.4));
    delay = Math.min(delay, BACKOFF_MAX_MS);
    clearTimeout(retryTimer);
    retryAt = Date.now() + delay;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, delay);
  }

  function drain() {
    return allItems().then(function (items) {
      var queue = items.filter(function (it) { return it.state !== "rejected"; });
      var next = function () {
        if (!queue.length) return undefined;
        var candidate = queue.shift();
        // Re-read it: it may have been sent by another tab or removed meanwhile.
        return getItem(candidate.client_id).then(function (item) {
          if (!item || item.state === "rejected" || preparing.has(item.client_id)) return next();
          item.attempts = (item.attempts || 0) + 1;
          return putItem(item).then(function () { return send(item); }).then(function (res) {
            setProgress(item.client_id, null);
            if (res.ok) {
              streak = 0;
              failing = false;
              serverNote = null;
              return deleteItem(item.client_id).then(function () {
                uploadedHere.set(item.client_id, { data: res.data, item: { // not its bytes
                  upload_url: item.upload_url, position: item.position, damage_mark: item.damage_mark } });
                showUploaded(item.client_id, res.data);
                untoast(slotKey(item.upload_url, item.position, item.damage_mark));
                document.dispatchEvent(
                  new CustomEvent("walkaround:photo-uploaded", { detail: res.data }));
                return refreshCounts();
              }).then(next);
            }
            if (res.rejected) {
              streak = 0; // the server answered, so the network is fine
              failing = false;
              serverNote = null;
              item.state = "rejected";
              item.error = res.error;
              return putItem(item).then(function () {
                showRejected(item.client_id, res.error, slotFor(item));
                var st = statusEl();
                var template = (st && st.dataset.msgRejected) || "{error}";
                toast(template.replace("{error}", function () { return res.error; }),
                      slotKey(item.upload_url, item.position, item.damage_mark));
                return refreshCounts();
              }).then(next);
            }
            // Network down or server unwell: the rest of the queue would fail the same way.
            streak++;
            failing = true;
            serverNote = res.note || null;
            rerun = false; // this attempt already answered the triggers before it
            backoff(res.wait);
            return refreshCounts();
          });
        });
      };
      return next();
    });
  }

  // One pass at a time per page; a call during a pass asks for one more pass afterwards,
  // so every trigger is honoured but no photo is ever in flight twice.
  function flush() {
    if (running) {
      rerun = true;
      refreshCounts();
      return running;
    }
    sending = true;
    running = (function loop() {
      rerun = false;
      clearTimeout(retryTimer);
      retryTimer = null;
      retryAt = 0;
      return refreshCounts().then(drain).catch(function () {}).then(function () {
        if (rerun) return loop();
        return undefined;
      });
    })().then(function () {
      running = null;
      sending = false;
      return refreshCounts();
    }).then(function () {});
    return running;
  }

  function flushIfDue() {
    if (!running && Date.now() >= retryAt) flush();
  }

  // --- capture ---

  var persistAsked = false;
  var preparing = new Set(); // client ids this page is still shrinking

  function countThumbs(slot) {
    return Array.prototype.filter.call(thumbsOf(slot).querySelectorAll("img"), function (img) {
      return img.getAttribute("data-state") !== "rejected";
    }).length;
  }

  function add(slot, file) {
    var max = parseInt(slot.dataset.maxPhotos || "", 10);
    if (max > 0 && countThumbs(slot) >= max) {
      toast(slot.dataset.msgFull, slotKey(slot.dataset.uploadUrl, slot.dataset.position, slot.dataset.damageMark));
      return Promise.resolve(null);
    }
    if (!persistAsked) {
      persistAsked = true;
      if (navigator.storage && navigator.storage.persist) {
        navigator.storage.persist().catch(function () {});
      }
    }
    var id = newId();
    var takenAt = Date.now();
    // The preview goes in before any await, so a quick second photo counts against max.
    var img = renderThumb(slot, id, file, "waiting");
    var original = previewUrls.get(id);
    previewUrls.delete(id);
    var ext = (/\.[A-Za-z0-9]{1,5}$/.exec(file.name || "") || [".jpg"])[0];
    var item = {
      client_id: id,
      blob: file,
      filename: id + ext.toLowerCase(),
      upload_url: slot.dataset.uploadUrl,
      position: slot.dataset.position || "",
      damage_mark: slot.dataset.damageMark || "",
      created_at: takenAt,
      attempts: 0,
      state: "waiting",
      error: null,
    };
    // Kept as taken before it is prepared: a reload or a tap elsewhere while a big photo
    // is shrunk must not lose it (it is then sent as taken). Not sent from here meanwhile.
    preparing.add(id);
    return putItem(item).then(function () { return downscale(file); }).then(function (blob) {
      var isJpeg = blob !== file;
      if (isJpeg) {
        item.blob = blob;
        item.filename = id + ".jpg";
      }
      return putItem(item).then(function () {
        preparing.delete(id);
        if (isJpeg) {
          img.src = previewUrl(id, blob); // the small copy; let the big one go
          if (original) URL.revokeObjectURL(original);
        } else if (original) {
          previewUrls.set(id, original);
        }
      });
    }).then(function () {
      flush();
      return id;
    });
  }

  function taken(input) {
    var slot = input.closest("[data-photo-slot]");
    var files = Array.from(input.files || []);
    input.value = ""; // the same file may be chosen again
    if (!slot) return;
    if (!slot.isConnected) slot = slotFor(slotItem(slot)) || slot;
    // One at a time: several 12 MP decodes at once can take an iPad tab down.
    var full = false;
    files.reduce(function (p, file) {
      return p.then(function () {
        if (full) return null;
        return add(slot, file).then(function (id) { full = id === null; });
      });
    }, Promise.resolve()).catch(function () {});
  }

  function slotItem(slot) {
    var d = slot.dataset;
    return { upload_url: d.uploadUrl, position: d.position, damage_mark: d.damageMark };
  }

  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (input.matches && input.matches("[data-photo-input]")) taken(input);
  });

  // The camera can answer after its slot was redrawn (an answer of the field outbox
  // replaces the damage marks while the photo is taken): the change then fires on an
  // input no longer in the page, which the listener above never hears. Each input also
  // listens itself, for that case only, and the photo goes to the slot now shown.
  function bindInputs() {
    document.querySelectorAll("[data-photo-input]").forEach(function (input) {
      if (input.walkaroundBound) return;
      input.walkaroundBound = true;
      input.addEventListener("change", function () { if (!input.isConnected) taken(input); });
    });
  }
  // A tap opens the camera: its input listens from then on, whatever drew it.
  document.addEventListener("click", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-photo-input]")) bindInputs();
  }, true);

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-outbox-remove]");
    if (!button) return;
    var wrap = button.closest("[data-outbox-thumb]");
    var img = wrap && wrap.querySelector("img[data-client-id]");
    if (!img) return;
    var id = img.getAttribute("data-client-id");
    getItem(id).then(function (item) {
      // Only a refused photo may be thrown away; a waiting one is still on its way.
      if (item && item.state !== "rejected") return undefined;
      return deleteItem(id).then(function () {
        forEachThumb(id, function (i, w) { (w || i).remove(); });
        dropPreview(id);
        return refreshCounts();
      });
    });
  });

  // A region redrawn from an answer the server gave before a photo of it was stored
  // (the marks, after a mark's answer) would drop the photo's thumbnail for good: the
  // photos this page sent are put back where they are missing.
  var uploadedHere = new Map(); // client_id -> {item, data}

  function renderUploaded() {
    uploadedHere.forEach(function (sent, id) {
      var slot = slotFor(sent.item);
      if (!slot || thumbsOf(slot).querySelector('img[data-client-id="' + cssEscape(id) + '"]')) return;
      renderThumb(slot, id, null, "uploaded");
      showUploaded(id, sent.data);
    });
  }

  // Previews for photos still in the outbox, in the slots this page shows.
  function renderPending() {
    bindInputs();
    renderUploaded();
    return allItems().then(function (items) {
      items.forEach(function (item) {
        var slot = slotFor(item);
        if (!slot) return;
        var img = renderThumb(slot, item.client_id, blobOf(item), item.state);
        if (img.closest("[data-outbox-thumb]")) img.setAttribute("data-state", item.state);
        if (item.state === "rejected") showRejected(item.client_id, item.error, slot);
      });
    });
  }

  var started = false;

  function init() {
    renderPending().then(refreshCounts).then(function () {
      if (!started) {
        started = true;
        flush();
      }
    });
  }

  window.addEventListener("online", function () {
    streak = 0;
    flush();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") flushIfDue();
  });
  document.addEventListener("htmx:afterSettle", function () {
    renderPending().then(refreshCounts);
  });
  setInterval(flushIfDue, TIMER_MS);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }

  window.walkaroundOutbox = {
    count: function () {
      return refreshCounts();
    },
    flush: function () {
      return flush();
    },
    add: function (slot, file) {
      return add(slot, file);
    },
  };
})();
