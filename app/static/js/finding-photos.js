// A finding's photos chosen with its report: say how many, beside the button.
(function () {
  "use strict";
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("input[type=file][data-finding-photos]")) return;
    var out = input.closest("form").querySelector("[data-finding-photo-count]");
    if (out) out.textContent = input.files.length ? "× " + input.files.length : "";
  });
})();
