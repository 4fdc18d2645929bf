// Check-in screens: tap the car diagram to place a damage mark (on the view shown); tap an
// answer chip to add it to its 5W2H field (and so autosave it); one tap answers the whole
// checklist; the guided camera's big button always opens the next missing position.
(function () {
  "use strict";

  // A mark is placed where the finger comes up, not on the click: an answer of the field
  // outbox can redraw the diagram between down and up, and the click then goes to what
  // both have in common (the form around it), so the tap was lost. A pan ends in a
  // pointercancel, not here.
  document.addEventListener("pointerup", function (evt) {
    if (!evt.isPrimary || evt.button !== 0) return;
    var svg = evt.target.closest && evt.target.closest("#diagram svg");
    if (svg && !evt.target.closest(".mark")) {
      var box = svg.getBoundingClientRect();
      var form = document.getElementById("diagram-form");
      if (form.elements.view && svg.dataset.view) form.elements.view.value = svg.dataset.view;
      form.elements.x.value = ((evt.clientX - box.left) / box.width).toFixed(4);
      form.elements.y.value = ((evt.clientY - box.top) / box.height).toFixed(4);
      htmx.trigger(form, "mark");
    }
  });

  document.addEventListener("click", function (evt) {
    var chip = evt.target.closest && evt.target.closest("[data-append-to]");
    if (chip) {
      var field = document.getElementById(chip.dataset.appendTo);
      var text = chip.textContent.trim();
      var parts = field.value ? field.value.split(/\s*[,，、;；]\s*/) : [];
      if (parts.indexOf(text) === -1) parts.push(text);
      // A Chinese list takes 、 (an ASCII comma after Chinese reads as a typo).
      var zh = /^zh/.test(document.documentElement.lang || "");
      field.value = parts.filter(Boolean).join(zh ? "、" : ", ");
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  // The checklist's usual answer in one tap: every question "yes", saved as one change.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-all-yes]");
    if (!button) return;
    var form = button.closest("form");
    var last = null;
    form.querySelectorAll(".checklist input[type=radio][value='1']").forEach(function (radio) {
      radio.checked = true;
      last = radio;
    });
    if (last) last.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // --- the guided camera ---
  // Browsers open a file input (the camera) only from the user's own tap, so the next photo
  // cannot open by itself: instead the one big button is a <label for> the next missing
  // position's input, moved on as soon as a photo is taken. Its tap is the photo's one tap.
  var takenHere = {}; // position -> true, from the moment the camera answered

  function hasPhoto(slot) {
    if (takenHere[slot.dataset.guidePosition]) return true;
    return Array.prototype.some.call(slot.querySelectorAll("[data-photo-thumbs] img"), function (img) {
      return img.getAttribute("data-state") !== "rejected";
    });
  }

  function updateGuide() {
    var guide = document.querySelector("[data-photo-guide]");
    if (!guide) return;
    var slots = Array.prototype.slice.call(document.querySelectorAll("[data-guide-position]"));
    var missing = slots.filter(function (slot) { return !hasPhoto(slot); });
    var next = guide.querySelector("[data-testid=next-photo]");
    var done = guide.querySelector("[data-guide-done]");
    if (!missing.length) {
      next.hidden = true;
      next.removeAttribute("for");
      next.dataset.position = "";
      done.hidden = false;
      return;
    }
    var slot = missing[0];
    var position = slot.dataset.guidePosition;
    next.hidden = false;
    done.hidden = true;
    next.setAttribute("for", "photo-" + position);
    next.dataset.position = position;
    guide.querySelector("[data-guide-label]").textContent = slot.dataset.guideLabel;
    var count = guide.dataset.msgCount || "{n}/{total}";
    guide.querySelector("[data-guide-count]").textContent = count
      .replace("{n}", String(slots.length - missing.length + 1))
      .replace("{total}", String(slots.length));
    next.querySelectorAll("[data-hint]").forEach(function (hint) {
      hint.setAttribute("display", hint.getAttribute("data-hint") === position ? "inline" : "none");
    });
  }

  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("[data-photo-input]") || !input.files || !input.files.length) return;
    var slot = input.closest("[data-guide-position]");
    if (!slot) return;
    takenHere[slot.dataset.guidePosition] = true;
    updateGuide();
  }, true); // before the outbox clears the input
  document.addEventListener("walkaround:outbox", updateGuide);
  document.addEventListener("walkaround:photo-uploaded", updateGuide);
  document.addEventListener("htmx:afterSettle", updateGuide);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", updateGuide);
  else updateGuide();
})();
