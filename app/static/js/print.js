// A print button ([data-print]) prints the page; the print stylesheet leaves the controls out.
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-print]")) window.print();
  });
})();
