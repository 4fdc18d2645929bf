// Walkaround service worker, shell version {{ version }}.
// Pre-caches the versioned shell; pages come from the network, and when the
// network is gone a navigation gets the offline page instead of an error.
// The one exception is the check-in at the car: its step pages are kept (only the
// check-in being done, only until the advisor leaves it), so a reload without network
// shows the step again and the field outbox puts back what is still waiting.
const VERSION = {{ version | tojson }};
const CACHE = "walkaround-shell-" + VERSION;
const PRECACHE = {{ precache | tojson }};
const PAGES = "walkaround-check-in-pages";
const CHECK_IN_STEP = /^\/check-ins\/(\d+)\/(greeting|covers|walkaround|symptoms)$/;

function keepCheckInPage(href, id, response) {
  return caches.open(PAGES).then((cache) => cache.keys()
    .then((keys) => Promise.all(keys
      .filter((key) => !new URL(key.url).pathname.startsWith("/check-ins/" + id + "/"))
      .map((key) => cache.delete(key))))
    .then(() => cache.put(href, response)));
}

function checkInPage(event, url, id) {
  return fetch(event.request).then((response) => {
    // A redirect (signed out, customer mode) or an error page is not the step page.
    if (response.ok && response.type === "basic" && !response.redirected) {
      event.waitUntil(keepCheckInPage(url.href, id, response.clone()));
    }
    return response;
  }).catch(() => caches.open(PAGES)
    .then((cache) => cache.match(url.href))
    .then((hit) => hit || caches.match("/offline")));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith("walkaround-shell-") && k !== CACHE).map((k) => caches.delete(k))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    const step = CHECK_IN_STEP.exec(url.pathname);
    if (step) {
      event.respondWith(checkInPage(event, url, step[1]));
      return;
    }
    // Anywhere else (the lane, the estimate, customer mode, sign-in) no staff page is kept.
    event.waitUntil(caches.delete(PAGES));
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request))
    );
  }
});
