// The customer's signature: signature_pad (pinned, vendored) on a canvas sized
// for the screen's pixel density. The strokes survive a rotation or resize
// (rescaled to the new width), and an empty or trivial mark is refused here
// as on the server, which checks again.
(function () {
  "use strict";
  const MIN_LENGTH = 120; // CSS px of ink, as app/services/signatures.py
  const MIN_EXTENT = 60;

  function inkSize(data) {
    let length = 0, minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const stroke of data) {
      const pts = stroke.points;
      for (let i = 0; i < pts.length; i++) {
        const p = pts[i];
        minX = Math.min(minX, p.x); maxX = Math.max(maxX, p.x);
        minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y);
        if (i) length += Math.hypot(p.x - pts[i - 1].x, p.y - pts[i - 1].y);
      }
    }
    return { length, extent: Math.max(maxX - minX, maxY - minY) };
  }

  function setup(root) {
    const canvas = root.querySelector("canvas");
    const strokes = root.querySelector("input[name=strokes]");
    const image = root.querySelector("input[name=image]");
    const hint = root.querySelector("[data-signature-hint]");
    const pad = new window.SignaturePad(canvas, { minWidth: 1.2, maxWidth: 3.5, penColor: "#0d1117" });
    let width = 0;

    function sync() {
      const data = pad.toData();
      const size = inkSize(data);
      const enough = !pad.isEmpty() && size.length >= MIN_LENGTH && size.extent >= MIN_EXTENT;
      strokes.value = JSON.stringify(data);
      image.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
      root.dataset.state = pad.isEmpty() ? "empty" : enough ? "ok" : "short";
      if (hint) hint.hidden = root.dataset.state !== "short";
    }

    function resize() {
      const rect = canvas.getBoundingClientRect();
      if (!rect.width || rect.width === width) return;
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      const data = pad.toData();
      const scale = width ? rect.width / width : 1;
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (data.length && scale !== 1) {
        for (const stroke of data) {
          for (const p of stroke.points) { p.x *= scale; p.y *= scale; }
        }
      }
      if (data.length) pad.fromData(data);
      width = rect.width;
      sync();
    }

    pad.addEventListener("endStroke", sync);
    root.querySelector("[data-signature-clear]")?.addEventListener("click", () => {
      pad.clear();
      sync();
    });
    new ResizeObserver(resize).observe(canvas);
    window.addEventListener("orientationchange", () => setTimeout(resize, 200));
    resize();
    const form = root.closest("form");
    form?.addEventListener("htmx:confirm", (event) => {
      if (event.detail.elt !== form) return; // only the form's own submit needs ink
      sync();
      if (root.dataset.state !== "ok") {
        event.preventDefault();
        if (hint) hint.hidden = false;
        canvas.focus();
      }
    });
  }

  function init() {
    document.querySelectorAll("[data-signature]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
