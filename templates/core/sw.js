/* JALA service worker: the offline page and static files for when the network is gone.
   Pages are always fetched from the network (a reader's pages are never stored). */
"use strict";
const CACHE = {{ cache_name|tojson }};
const ASSETS = {{ assets|tojson }};
const OFFLINE = {{ offline_url|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("jala-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
  } else if (url.pathname.startsWith("/static/") && url.searchParams.has("v")) {
    // the versioned files kept for the offline page; the others stay in the HTTP cache
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
