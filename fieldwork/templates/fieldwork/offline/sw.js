{% load static %}/* The field pages' service worker (scope /fieldwork/).
 *
 * - The shell (CSS, scripts, Leaflet) is cached on install and served from the cache, refreshed
 *   in the background.
 * - Field pages (GET navigations under /fieldwork/) go to the network first; a good answer is
 *   kept, and with no signal the kept copy is shown, marked so the page says when it was saved.
 * - After the due list loads online, the page asks for the visit form of every household on it
 *   to be kept too ("precache"), so any of them opens with no signal.
 * - Pages are kept per signed-in user (the "u" parameter of this script's address): a worker
 *   signing in on a shared phone gets a new worker, which deletes the previous user's pages.
 * - POSTs, the API and other users' pages are never cached.
 * - Background Sync: a record kept on the phone asks for a "fw-queue" sync; when the connection
 *   returns the browser wakes this worker, which sends the user's queue (queue-core.js, the same
 *   code the pages use) even with no field page open. Items it cannot send yet make the sync
 *   fail, so the browser tries again later.
 */
"use strict";

importScripts("{% static 'fieldwork/queue-core.js' %}");

var VERSION = "{{ version }}";
var USER = new URL(self.location.href).searchParams.get("u") || "anon";
var SHELL = "fw-shell-" + VERSION;
var PAGES = "fw-pages-" + USER;
var OFFLINE_URL = "{% url 'fieldwork:offline' %}";
var SHELL_URLS = {{ shell|safe }}.concat([OFFLINE_URL]);
var STATIC_PREFIX = "{% get_static_prefix %}";
// Public pages (the grid notice) and the worker itself are not field pages.
var SKIP = [/^\/fieldwork\/sw\.js/, /^\/fieldwork\/g\//, /^\/fieldwork\/manifest/];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      return Promise.all(SHELL_URLS.map(function (u) { return cache.add(u).catch(function () {}); }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("fw-") === 0 && n !== SHELL && n !== PAGES;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function keep(request, response) {
  // Only a page the server gave this user: not an error, a redirect (to sign in) or a foreign answer.
  if (!response || response.status !== 200 || response.type !== "basic" || response.redirected) return;
  var type = response.headers.get("Content-Type") || "";
  if (type.indexOf("text/html") < 0 && type.indexOf("application/json") < 0) return;
  var copy = response.clone();
  return caches.open(PAGES).then(function (cache) { return cache.put(request.url, copy); });
}

function stale(response) {
  // Mark a kept page so it can say "offline · data updated at HH:MM".
  var type = response.headers.get("Content-Type") || "";
  if (type.indexOf("text/html") < 0) return response;
  return response.text().then(function (html) {
    var headers = new Headers(response.headers);
    headers.set("X-Linli-Offline", "1");
    return new Response(html.replace('data-fresh="1"', 'data-fresh="0"'), { status: 200, headers: headers });
  });
}

function fromCache(request) {
  return caches.open(PAGES).then(function (cache) {
    return cache.match(request.url, { ignoreVary: true }).then(function (hit) {
      return hit || cache.match(request.url, { ignoreVary: true, ignoreSearch: true });
    });
  });
}

function networkFirst(event) {
  var request = event.request;
  return fetch(request).then(function (response) {
    event.waitUntil(Promise.resolve(keep(request, response)));
    return response;
  }, function () {
    return fromCache(request).then(function (hit) {
      if (hit) return stale(hit);
      if (request.mode !== "navigate") return Response.error();
      return caches.match(OFFLINE_URL).then(function (page) { return page || Response.error(); });
    });
  });
}

function shell(event) {
  var request = event.request;
  return caches.match(request).then(function (hit) {
    var refresh = fetch(request).then(function (response) {
      if (response && response.status === 200) {
        var copy = response.clone();
        caches.open(SHELL).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
    if (hit) {
      event.waitUntil(refresh.catch(function () {}));
      return hit;
    }
    return refresh;
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  // Only whole pages: never a POST, nor an htmx fragment (it would stand in for its page).
  if (request.method !== "GET" || request.headers.get("HX-Request")) return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(shell(event));
    return;
  }
  if (url.pathname.indexOf("/fieldwork/") !== 0 || SKIP.some(function (re) { return re.test(url.pathname); })) return;
  var html = request.mode === "navigate" || (request.headers.get("Accept") || "").indexOf("text/html") >= 0;
  var bundle = url.pathname.indexOf("/fieldwork/offline/bundle") === 0;
  if (!html && !bundle) return;
  event.respondWith(networkFirst(event));
});

// The page asks for pages to be kept (the visit forms of the due list's households).
self.addEventListener("message", function (event) {
  var data = event.data || {};
  var port = event.ports && event.ports[0];
  if (data.type === "precache" && Array.isArray(data.urls)) {
    var urls = data.urls.filter(function (u) { return typeof u === "string" && u.indexOf("/fieldwork/") === 0; });
    var done = 0, failed = 0, i = 0;
    var work = caches.open(PAGES).then(function (cache) {
      function next() {
        if (i >= urls.length) return Promise.resolve();
        var u = urls[i++];
        return fetch(u, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (response) {
          if (response.status === 200 && !response.redirected) { done++; return cache.put(u, response); }
          failed++;
        }, function () { failed++; }).then(next);
      }
      // A few at a time: a phone on a weak signal should not open hundreds of requests at once.
      return Promise.all([next(), next(), next(), next()]);
    }).then(function () {
      if (port) port.postMessage({ kept: done, failed: failed, total: urls.length });
    });
    if (event.waitUntil) event.waitUntil(work);
  } else if (data.type === "forget") {
    var forget = caches.delete(PAGES).then(function () { if (port) port.postMessage({ forgotten: true }); });
    if (event.waitUntil) event.waitUntil(forget);
  }
});

// The queue, sent from here when the browser says the connection is back.
var queue = self.linliQueueCore({
  user: USER,
  syncUrl: "/api/fieldwork/sync",
  csrf: function () {
    return queue.store("meta", "readonly", function (s) { return s.get("csrf:" + USER); })
      .then(function (row) { return row ? row.token : ""; }, function () { return ""; });
  },
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "fw-queue") return;
  event.waitUntil(queue.sendAll(true).then(function () {
    return queue.mine("queue");
  }).then(function (left) {
    // Tell the open pages (their banners count what is waiting), and have the browser retry
    // later if anything is still waiting.
    self.clients.matchAll({ type: "window" }).then(function (pages) {
      pages.forEach(function (p) { p.postMessage({ type: "fw-queue-sent", waiting: left.length }); });
    });
    if (left.length) throw new Error(left.length + " still waiting");
  }));
});
