// Progressive enhancement: where the browser has BarcodeDetector, a "Scan VIN"
// button reads the VIN barcode (Code 39/128, Data Matrix, QR) from a camera
// photo into the VIN field. Typing always works; without the API the button stays hidden.
(function () {
  "use strict";
  var button = document.querySelector("[data-vin-scan]");
  var field = document.getElementById("vin");
  if (!button || !field || !("BarcodeDetector" in window)) return;
  var input = button.querySelector("input[type=file]");
  button.hidden = false;
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) return;
    var detector = new window.BarcodeDetector({
      formats: ["code_39", "code_128", "data_matrix", "qr_code"],
    });
    createImageBitmap(file)
      .then(function (bitmap) { return detector.detect(bitmap); })
      .then(function (codes) {
        var vin = codes.map(function (c) { return c.rawValue.replace(/[^A-Za-z0-9]/g, "").toUpperCase(); })
          .filter(function (v) { return v.length === 17 || (v.length === 18 && v[0] === "I"); })[0];
        if (!vin) throw new Error("no VIN");
        field.value = vin.length === 18 ? vin.slice(1) : vin; // Code 39 VINs may carry a leading "I"
        field.dispatchEvent(new Event("change", { bubbles: true }));
      })
      .catch(function () {
        if (window.walkaroundToast) window.walkaroundToast(button.dataset.failMessage, "error");
      })
      .finally(function () { input.value = ""; });
  });
})();
