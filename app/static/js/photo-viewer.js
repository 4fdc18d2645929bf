// The customer's photos full screen: a tap on a photo of a [data-gallery] opens it over
// the page; swipe left or right (or the arrows, or the keyboard) for the next one, and
// the close button (64 px, top right) or Escape returns to the page where it was.
// Without this script each photo is a plain link to the large picture.
(function () {
  "use strict";
  const SWIPE_PX = 50; // a deliberate sideways move, not a wobbly tap

  function button(cls, label, text) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.setAttribute("aria-label", label);
    b.textContent = text;
    return b;
  }

  function open(gallery, links, start) {
    let index = start;
    const viewer = document.createElement("div");
    viewer.className = "viewer";
    viewer.setAttribute("role", "dialog");
    viewer.setAttribute("aria-modal", "true");
    viewer.setAttribute("data-testid", "photo-viewer");
    const stage = document.createElement("div");
    stage.className = "viewer-stage";
    const img = document.createElement("img");
    img.draggable = false; // a mouse drag would start the browser's image drag, not a swipe
    stage.appendChild(img);
    const close = button("viewer-close", gallery.dataset.labelClose || "Close", "✕");
    close.setAttribute("data-testid", "viewer-close");
    const prev = button("viewer-prev", gallery.dataset.labelPrev || "Previous", "‹");
    const next = button("viewer-next", gallery.dataset.labelNext || "Next", "›");
    const caption = document.createElement("p");
    caption.className = "viewer-caption";
    caption.setAttribute("aria-live", "polite");
    caption.setAttribute("data-testid", "viewer-caption");
    const bar = document.createElement("div");
    bar.className = "viewer-bar";
    bar.append(prev, caption, next);
    viewer.append(stage, bar, close);

    function show(i) {
      index = Math.max(0, Math.min(links.length - 1, i));
      const link = links[index];
      img.src = link.getAttribute("href");
      img.alt = link.dataset.caption || "";
      caption.textContent = `${index + 1} / ${links.length} · ${link.dataset.caption || ""}`;
      prev.disabled = index === 0;
      next.disabled = index === links.length - 1;
    }
    function shut() {
      document.removeEventListener("keydown", onKey);
      viewer.remove();
      document.body.classList.remove("viewer-open");
      links[index].focus();
    }
    function onKey(e) {
      if (e.key === "Escape") shut();
      else if (e.key === "ArrowLeft") show(index - 1);
      else if (e.key === "ArrowRight") show(index + 1);
    }
    close.addEventListener("click", shut);
    prev.addEventListener("click", () => show(index - 1));
    next.addEventListener("click", () => show(index + 1));
    document.addEventListener("keydown", onKey);

    // Swipe: pointer events cover touch, pen and mouse alike.
    let startX = null, startY = 0;
    stage.addEventListener("pointerdown", (e) => { startX = e.clientX; startY = e.clientY; });
    stage.addEventListener("pointercancel", () => { startX = null; });
    stage.addEventListener("pointerup", (e) => {
      if (startX === null) return;
      const dx = e.clientX - startX, dy = e.clientY - startY;
      startX = null;
      if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > Math.abs(dy)) show(dx < 0 ? index + 1 : index - 1);
    });

    document.body.appendChild(viewer);
    document.body.classList.add("viewer-open");
    show(index);
    close.focus();
  }

  document.addEventListener("click", (e) => {
    const link = e.target instanceof Element ? e.target.closest("[data-gallery] a[data-viewer]") : null;
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const gallery = link.closest("[data-gallery]");
    const links = Array.from(gallery.querySelectorAll("a[data-viewer]"));
    e.preventDefault();
    open(gallery, links, links.indexOf(link));
  });
})();
