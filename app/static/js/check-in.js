// Check-in screens: tap the car diagram to place a damage mark; tap an answer
// chip to add it to its 5W2H field (and so autosave it).
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
})();
