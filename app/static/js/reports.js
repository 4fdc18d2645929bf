// A printed report shows everything: the folded tables open for the print and fold again after.
(function () {
  "use strict";
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.report-more:not([open])").forEach(function (box) {
      box.open = true;
      opened.push(box);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (box) { box.open = false; });
    opened = [];
  });
})();
