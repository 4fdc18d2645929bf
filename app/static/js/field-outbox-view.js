// What the field outbox (field-outbox.js) still holds, shown where it belongs: values in
// their fields, a belonging, mark or concern being added as a placeholder, a removal
// struck through, a cover's new state, and "N changes waiting" at the top. Redrawn from
// the server's state after every answer, so what is shown is server + outbox, in order.
(function () {
  "use strict";
  if (window.walkaroundFieldView) return;

  var SVG = "http://www.w3.org/2000/svg";
  var SKIP = { _csrf_token: 1, version: 1, change_id: 1 };
  var lastFailing = false;
  var showTimer = null;

  function statusEl() { return document.querySelector("[data-field-outbox-status]"); }

  function text(key, fallback) {
    var el = statusEl();
    return (el && el.dataset[key]) || fallback;
  }

  function status(waiting, failing) {
    var el = statusEl();
    lastFailing = failing;
    clearTimeout(showTimer);
    if (!el) return;
    if (!waiting) {
      el.hidden = true;
      el.textContent = "";
      return;
    }
    var template = waiting === 1 ? text("msgOne", "1 change waiting") : text("msgMany", "{n} changes waiting");
    el.textContent = template.replace(/\{n\}/g, String(waiting));
    // On a good network a change is gone in a blink: say nothing unless it lingers.
    if (failing) el.hidden = false;
    else showTimer = setTimeout(function () { el.hidden = false; }, 1500);
  }

  function badge() {
    var b = document.createElement("span");
    b.className = "badge badge-warn";
    b.textContent = text("msgWaiting", "waiting");
    return b;
  }

  function pendingNode(tag, className) {
    var el = document.createElement(tag);
    el.className = className;
    el.setAttribute("data-pending-change", "");
    return el;
  }

  function formFor(here, path) {
    return here.querySelector('[hx-post="' + path.replace(/"/g, '\\"') + '"]');
  }

  function valuesOf(fields) {
    var values = {};
    fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    return values;
  }

  function fill(form, fields) {
    var values = valuesOf(fields);
    // What the advisor is touching is left as it is: the whole group, not just the focused
    // element. Checking another radio of the focused one's group would uncheck it, and
    // then skipping it left the group empty (the next save sent no fuel level at all).
    var active = document.activeElement;
    var touched = active && active.form === form && active.name;
    Array.prototype.forEach.call(form.elements || [], function (el) {
      if (!el.name || SKIP[el.name] || el.name === touched) return;
      if (/^(hidden|file|submit|button)$/.test(el.type)) return;
      var vals = values[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") el.checked = vals.indexOf(el.value) >= 0;
      else if (el.name in values) el.value = vals[vals.length - 1];
    });
  }

  function addBelonging(here, path, fields, waiting) {
    var form = formFor(here, path);
    if (!form) return;
    var values = valuesOf(fields);
    var kind = (values.kind || [""])[0];
    var option = form.querySelector('option[value="' + kind + '"], button[name=kind][value="' + kind + '"]');
    var li = pendingNode("li", "row is-pending");
    var label = document.createElement("span");
    label.className = "grow";
    label.textContent = (option ? option.dataset.label || option.textContent : kind) + " × " +
      ((values.count || ["1"])[0] || "1");
    li.appendChild(label);
    if (waiting) li.appendChild(badge());
    var list = form.previousElementSibling;
    if (!list || !list.hasAttribute("data-pending-change")) {
      list = pendingNode("ul", "plain");
      form.parentNode.insertBefore(list, form);
    }
    list.appendChild(li);
  }

  function addMark(here, fields, waiting) {
    var values = valuesOf(fields);
    var marks = here.querySelector("#marks");
    if (marks) {
      var card = pendingNode("div", "card mark-card is-pending");
      var title = document.createElement("h3");
      title.textContent = text("msgMark", "Damage mark") + " ";
      if (waiting) title.appendChild(badge());
      card.appendChild(title);
      marks.appendChild(card);
    }
    // On the view the mark was placed on (none sent: the top view), in its own units.
    var view = (values.view || ["top"])[0] || "top";
    var svg = here.querySelector('#diagram svg[data-view="' + view + '"]') ||
      here.querySelector("#diagram svg");
    if (svg) {
      var size = svg.viewBox && svg.viewBox.baseVal;
      var dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("cx", String((size ? size.width : 200) * parseFloat((values.x || ["0"])[0])));
      dot.setAttribute("cy", String((size ? size.height : 400) * parseFloat((values.y || ["0"])[0])));
      dot.setAttribute("r", "11");
      dot.setAttribute("class", "pending-mark");
      dot.setAttribute("data-pending-change", "");
      svg.appendChild(dot);
    }
  }

  function addConcern(here, path, fields, waiting) {
    var form = formFor(here, path);
    if (!form) return;
    var card = pendingNode("div", "card concern is-pending");
    var words = document.createElement("p");
    words.textContent = (valuesOf(fields).customer_words || [""])[0];
    card.appendChild(words);
    if (waiting) card.appendChild(badge());
    form.parentNode.insertBefore(card, form);
  }

  function flipCover(here, kind) {
    var button = here.querySelector('[data-cover="' + kind + '"]');
    if (!button) return;
    var flips = parseInt(button.getAttribute("data-pending-flip") || "0", 10) + 1;
    button.setAttribute("data-pending-flip", String(flips));
    button.classList.toggle("cover-done");
    button.setAttribute("aria-pressed", button.classList.contains("cover-done") ? "true" : "false");
  }

  function reset(here) {
    here.querySelectorAll("[data-pending-change]").forEach(function (el) { el.remove(); });
    here.querySelectorAll("[data-pending-removal]").forEach(function (el) {
      el.removeAttribute("data-pending-removal");
    });
    here.querySelectorAll("[data-pending-flip]").forEach(function (button) {
      var flips = parseInt(button.getAttribute("data-pending-flip"), 10) || 0;
      if (flips % 2) {
        button.classList.toggle("cover-done");
        button.setAttribute("aria-pressed", button.classList.contains("cover-done") ? "true" : "false");
      }
      button.removeAttribute("data-pending-flip");
    });
  }

  function show(here, item) {
    var path = item.url.replace(/^[a-z]+:\/\/[^/]+/, "");
    var waiting = item.state === "waiting";
    var m;
    if (/\/delete$/.test(path)) {
      var sender = formFor(here, path);
      var gone = sender && sender.closest("li, .mark-card, .concern");
      if (gone) gone.setAttribute("data-pending-removal", "");
    } else if (/\/belongings$/.test(path)) {
      addBelonging(here, path, item.fields, waiting);
    } else if (/\/marks$/.test(path)) {
      addMark(here, item.fields, waiting);
    } else if (/\/concerns$/.test(path)) {
      addConcern(here, path, item.fields, waiting);
    } else if ((m = /\/cover\/([a-z_]+)$/.exec(path))) {
      flipCover(here, m[1]);
    } else if (/\/summary\/confirm$/.test(path)) {
      var confirm = formFor(here, path);
      if (confirm && waiting) {
        var mark = badge();
        mark.setAttribute("data-pending-change", "");
        confirm.insertAdjacentElement("afterend", mark);
      }
    } else {
      var form = formFor(here, path);
      if (form) fill(form, item.fields);
    }
  }

  function regionOf(path) {
    var m = /\/(belongings|marks|concerns|cover|summary)(\/|$)/.exec(path);
    if (!m) return null;
    return { cover: "#covers", summary: "#concerns" }[m[1]] || "#" + m[1];
  }

  // state: {items, pageVersion, fresh}. A change already sent is shown too while the page
  // is older than it (a page the service worker kept) and its region was not redrawn since.
  function render(state) {
    var here = document.querySelector("[data-check-in]");
    if (!here) return;
    reset(here);
    state.items.forEach(function (item) {
      if (item.check_in !== here.dataset.checkIn) return;
      var region = regionOf(item.url);
      var stale = item.version > state.pageVersion && !(region && state.fresh[region]);
      if (item.state === "waiting" || (item.state === "sent" && stale)) show(here, item);
    });
  }

  function finishWaits(waiting) {
    if (lastFailing && typeof window.walkaroundToast === "function") {
      window.walkaroundToast(text("msgFinish", "Waiting for the network").replace(/\{n\}/g, String(waiting)), "error");
    }
  }

  window.walkaroundFieldView = { status: status, render: render, finishWaits: finishWaits };
})();
