// Walkaround shell behaviour: toasts, htmx error handling, service worker.
(function () {
  "use strict";

  // One toast at a time, near the thumb: a new message replaces the one shown (five
  // refused photos say so once, not five times over the form). A toast may name what it is
  // about (`key`: a form's field, a photo slot); fixing that takes it away (dismiss).
  var shown = null;

  function dismiss(el) {
    if (el && el.parentNode) el.parentNode.removeChild(el);
    if (shown && shown.el === el) {
      clearTimeout(shown.timer);
      shown = null;
    }
  }

  function toast(message, level, reload, key, owner) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    if (shown && shown.reload && !reload) return; // "reload" stays until it is done
    while (box.firstChild) box.removeChild(box.firstChild);
    if (shown) clearTimeout(shown.timer);
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "error");
    el.setAttribute("role", level === "ok" ? "status" : "alert");
    var text = document.createElement("span");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", document.body.dataset.closeLabel || "Close");
    close.addEventListener("click", function () { dismiss(el); });
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
    shown = { el: el, key: key || null, owner: owner || null, reload: !!reload,
              timer: reload ? null : setTimeout(function () { dismiss(el); }, 8000) };
  }
  toast.dismiss = function (key) {
    if (shown && key && shown.key === key) dismiss(shown.el);
  };
  // A save of a form that went through takes away the toast about that form.
  toast.dismissFor = function (container) {
    if (!shown || !shown.owner || !container) return;
    if (container === shown.owner || (container.contains && container.contains(shown.owner))) {
      dismiss(shown.el);
    }
  };
  window.walkaroundToast = toast;

  // A refused field is marked where it is: aria-invalid on the field and the message in
  // its slot. The slot is looked for in the form that sent the save (names repeat across
  // forms); a form without one gets a slot after the field.
  function fieldsNamed(form, name) {
    return form ? Array.prototype.filter.call(form.elements || [], function (el) {
      return el.name === name;
    }) : [];
  }

  function slotFor(form, name, fields) {
    var id = "error-" + name;
    var slot = form && form.querySelector('[data-error-for="' + name + '"], [id="' + id + '"]');
    if (slot || !fields.length) return slot || document.getElementById(id);
    var last = fields[fields.length - 1];
    var after = last.closest(".segmented, .chips, .fuel, label.check, label.tick-item") || last;
    slot = document.createElement("p");
    slot.className = "field-error";
    slot.setAttribute("role", "alert");
    slot.setAttribute("data-error-for", name);
    slot.id = document.getElementById(id) ? id + "-" + Math.random().toString(36).slice(2) : id;
    after.insertAdjacentElement("afterend", slot);
    return slot;
  }

  function markField(source, name, message) {
    var form = source && source.closest ? source.closest("form") : null;
    var fields = fieldsNamed(form, name);
    var slot = slotFor(form, name, fields);
    if (slot) slot.textContent = message;
    fields.forEach(function (el) {
      el.setAttribute("aria-invalid", "true");
      if (slot && slot.id) el.setAttribute("aria-describedby", slot.id);
    });
  }

  function clearMarks(container) {
    if (!container || !container.querySelectorAll) return;
    toast.dismissFor(container);
    container.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    container.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
  }
  window.walkaroundFields = { mark: markField, clear: clearMarks };

  // Server-side errors arrive as an HX-Trigger "wa:toast" event with the message.
  document.body.addEventListener("wa:toast", function (evt) {
    var d = evt.detail;
    var form = evt.target && evt.target.closest ? evt.target.closest("form") || evt.target : null;
    var owner = form && form !== document.body ? form : null;
    toast(d.message, d.level, d.reload, owner && d.field ? "field:" + d.field : null, owner);
    if (d.field) markField(evt.target, d.field, d.message);
  });
  // A save that went through clears the field messages of its form. When the
  // form itself was swapped out, htmx reports an ancestor (e.g. <main>) here:
  // leave the rest of the page's messages alone then.
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    if (!evt.detail.successful) return;
    var sender = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    if (sender && sender !== evt.detail.elt) return;
    clearMarks(evt.detail.elt);
  });
  // Live regions (data-live-refresh) skip a refresh while someone is typing or has
  // changed something in one of their forms (a tick, a chip, a word): the swap would
  // wipe it. A refresh already on its way when the change was made is not swapped in
  // either. Here rather than an hx-trigger filter, which htmx would have to eval (the
  // CSP forbids eval).
  function changed(field) {
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.type === "file") return field.files && field.files.length > 0;
    if (field.tagName === "SELECT") {
      // With no option marked selected, a single select starts on its first option.
      var opts = Array.prototype.slice.call(field.options);
      var marked = opts.some(function (o) { return o.defaultSelected; });
      return opts.some(function (o, i) {
        return o.selected !== (marked ? o.defaultSelected : !field.multiple && i === 0);
      });
    }
    return field.type !== "hidden" && field.value !== field.defaultValue;
  }
  function busy(region) {
    if (region.querySelector(":focus:is(input, textarea, select)")) return true;
    return Array.prototype.some.call(region.querySelectorAll("form input, form textarea, form select"), changed);
  }
  function liveRegion(evt) {
    var elt = evt.detail.elt;
    return elt && elt.hasAttribute && elt.hasAttribute("data-live-refresh") ? elt : null;
  }
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var region = liveRegion(evt);
    if (region && busy(region)) evt.preventDefault();
  });
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var region = liveRegion(evt);
    var sender = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    if (region && sender === region && busy(region)) evt.detail.shouldSwap = false;
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
