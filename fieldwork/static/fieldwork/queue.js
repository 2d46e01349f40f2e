/* The grid worker's offline queue (window.LinliQueue).
 *
 * What is recorded with no signal is kept in IndexedDB, per signed-in user, each item with its
 * own idempotency key, and sent to POST /api/fieldwork/sync when the connection returns (on the
 * "online" event, on page load and every 30 s, with exponential backoff after failures). The
 * server answers per item: ok / duplicate leave the queue, refused ones move to a list the
 * worker reads on /fieldwork/queue/, errors stay and are retried.
 *
 * The storage and the sending are in queue-core.js, which the service worker also loads: with
 * Background Sync (Chrome on Android) the queue is sent when the connection returns even with no
 * field page open.
 *
 * Forms with data-queue="<kind>" are sent normally when online (through fetch, following the
 * server's redirect); when the phone is offline, or the post fails on the network, their fields
 * become the item's payload and the page says the record is kept on the phone.
 */
(function () {
  "use strict";
  if (window.LinliQueue) return;

  var status = document.getElementById("fw-status");
  var cfg = status ? status.dataset : {};
  var USER = cfg.user || "anon";
  var SYNC_URL = cfg.sync || "/api/fieldwork/sync";
  var MAX_PHOTOS = 3;
  var PHOTO_EDGE = 1600;
  var flushing = null;
  var core = self.linliQueueCore({
    user: USER, syncUrl: SYNC_URL, csrf: csrf,
    onSending: function () { setBanner(t("sending"), "sending"); },
  });
  var store = core.store, mine = core.mine, timedFetch = core.timedFetch;

  function t(name, params) {
    var s = cfg["t" + name.charAt(0).toUpperCase() + name.slice(1)] || name;
    Object.keys(params || {}).forEach(function (k) { s = s.replace("{" + k + "}", params[k]); });
    return s;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ------------------------------------------------------------ the queue

  var seq = Date.now() * 1000;

  function add(kind, payload, key, label) {
    key = key || uuid();
    var item = {
      id: USER + ":" + key, key: key, kind: kind, payload: payload || {}, user: USER,
      label: label || "", created: new Date().toISOString(), seq: seq++, attempts: 0, next_at: 0, last_error: "",
    };
    return store("queue", "readwrite", function (s) { s.put(item); }).then(function () {
      changed();
      backgroundSync();
      flush();
      return key;
    });
  }

  // Ask the service worker to send the queue when the connection returns, should no field page
  // be open then; it sends with the security token kept here (a worker cannot read cookies).
  function backgroundSync() {
    if (!("serviceWorker" in navigator) || !window.SyncManager) return Promise.resolve(false);
    return store("meta", "readwrite", function (s) { s.put({ id: "csrf:" + USER, user: USER, token: csrf() }); })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (reg) { return reg.sync.register("fw-queue"); })
      .then(function () { return true; }, function () { return false; });
  }

  function pending() {
    return mine("queue").then(function (rows) { return rows.length; });
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : (cfg.csrf || "");
  }

  function flush(force) {
    if (flushing) return flushing;
    if (!navigator.onLine) return Promise.resolve(0);
    flushing = core.sendAll(force).catch(function () { return 0; }).then(function (n) {
      flushing = null;
      changed();
      return n;
    });
    return flushing;
  }

  function refused() { return mine("refused"); }
  function waiting() { return mine("queue"); }
  function dismiss(key) {
    return store("refused", "readwrite", function (s) { s.delete(USER + ":" + key); }).then(changed);
  }

  function saveBundle(data) {
    return store("meta", "readwrite", function (s) { s.put({ id: "bundle:" + USER, user: USER, data: data, at: new Date().toISOString() }); });
  }
  function lastPrecache() {
    return store("meta", "readonly", function (s) { return s.get("precache:" + USER); }).catch(function () { return null; });
  }
  function bundle() {
    return store("meta", "readonly", function (s) { return s.get("bundle:" + USER); }).then(function (row) { return row ? row.data : null; });
  }

  // ------------------------------------------------------------ banner

  function setBanner(text, state) {
    var el = document.getElementById("fw-banner");
    if (!el) return;
    el.textContent = text;
    el.dataset.state = state;
    el.hidden = false;
  }

  function changed() {
    return Promise.all([pending(), refused()]).then(function (res) {
      var n = res[0], r = res[1].length;
      var text = n ? t("waiting", { n: n }) : t("sent");
      if (r) text += " · " + t("refused", { n: r });
      if (!flushing || !n) setBanner(text, n ? "waiting" : r ? "refused" : "sent");
      var el = document.getElementById("fw-banner");
      if (el) { el.dataset.waiting = n; el.dataset.refused = r; }
      document.dispatchEvent(new CustomEvent("linli-queue", { detail: { waiting: n, refused: r } }));
      return n;
    }).catch(function () {});
  }

  function showOffline() {
    var el = document.getElementById("fw-offline");
    if (!el) return;
    if (cfg.fresh === "0") {
      el.textContent = t("offline", { at: cfg.at || "" });
      el.hidden = false;
    } else if (!navigator.onLine) {
      el.textContent = t("offlineNow");
      el.hidden = false;
    } else {
      el.hidden = true;
    }
  }

  // ------------------------------------------------------------ forms

  function readPhoto(file) {
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { resolve(null); };
      reader.readAsDataURL(file);
    }).then(function (raw) {
      if (!raw || !/^image\/(jpeg|png|webp)/.test(file.type) || !window.createImageBitmap) return raw;
      // Keep phone photos small enough to queue and send: at most 1600 px, JPEG.
      return createImageBitmap(file).then(function (img) {
        var scale = Math.min(1, PHOTO_EDGE / Math.max(img.width, img.height));
        if (scale === 1 && file.size < 1024 * 1024) return raw;
        var c = document.createElement("canvas");
        c.width = Math.round(img.width * scale); c.height = Math.round(img.height * scale);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        return c.toDataURL("image/jpeg", 0.82);
      }).catch(function () { return raw; });
    });
  }

  function formPayload(form) {
    var payload = {}, files = [], groups = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.type === "checkbox" && el.name) groups[el.name] = (groups[el.name] || 0) + 1;
    });
    function put(name, value, multi) {
      if (multi) { (payload[name] = payload[name] || []).push(value); return; }
      if (name in payload) {
        if (!Array.isArray(payload[name])) payload[name] = [payload[name]];
        payload[name].push(value);
      } else payload[name] = value;
    }
    Array.prototype.forEach.call(form.elements, function (el) {
      var name = el.name;
      if (!name || el.disabled || name === "csrfmiddlewaretoken" || name === "client_key") return;
      var type = (el.type || "").toLowerCase();
      if (type === "submit" || type === "button" || type === "reset") return;
      if (type === "file") {
        Array.prototype.forEach.call(el.files || [], function (f) { files.push({ name: name, file: f }); });
        return;
      }
      if (type === "checkbox") {
        var plain = !el.hasAttribute("value") || ["on", "true", "1"].indexOf(el.value) >= 0;
        if (plain && groups[name] === 1) { payload[name] = el.checked; return; }
        if (!(name in payload)) payload[name] = [];
        if (el.checked) payload[name].push(el.value);
        return;
      }
      if (type === "radio") { if (el.checked) payload[name] = el.value; return; }
      if (el.tagName === "SELECT" && el.multiple) {
        payload[name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
        return;
      }
      put(name, el.value, false);
    });
    if (files.length > MAX_PHOTOS) return Promise.reject(new Error(t("photos")));
    return Promise.all(files.map(function (f) { return readPhoto(f.file); })).then(function (urls) {
      urls.forEach(function (u, i) { if (u) put(files[i].name, u, true); });
      return payload;
    });
  }

  function keyInput(form) { return form.querySelector("input[name=client_key]"); }

  function freshKey(form) {
    var input = keyInput(form);
    if (input) input.value = uuid();
  }

  function saved(form) {
    var box = document.getElementById("fw-saved");
    if (box) {
      box.textContent = t("saved");
      box.hidden = false;
      box.scrollIntoView({ block: "center" });
    }
    form.reset();
    freshKey(form);
    form.dispatchEvent(new CustomEvent("linli-queued", { bubbles: true }));
  }

  function queueForm(form) {
    var input = keyInput(form);
    var key = (input && input.value) || uuid();
    return formPayload(form).then(function (payload) {
      var named = document.querySelector("[data-queue-label]");
      var label = form.dataset.queueLabel || (named && (named.dataset.queueLabel || named.textContent)) || (document.querySelector("h1") || {}).textContent || "";
      return add(form.dataset.queue, payload, key, label.trim().slice(0, 120));
    }).then(function () { saved(form); });
  }

  function postForm(form, submitter) {
    // A page opened from the phone's cache may carry a stale token: the cookie's is current.
    var token = csrf(), field = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (token && field) field.value = token;
    var data;
    try { data = submitter ? new FormData(form, submitter) : new FormData(form); } catch (e) { data = new FormData(form); }
    return timedFetch(form.action || location.href, { method: "POST", body: data, credentials: "same-origin", redirect: "follow" }, 20000);
  }

  function onSubmit(e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.queue) return;
    e.preventDefault();
    if (form.dataset.busy === "1") return;
    form.dataset.busy = "1";
    var done = function () { form.dataset.busy = ""; };
    var fail = function (err) {
      done();
      var box = document.getElementById("fw-saved");
      if (box) { box.className = "fw-saved message error"; box.textContent = err.message; box.hidden = false; }
    };
    var photos = Array.prototype.reduce.call(form.querySelectorAll("input[type=file]"), function (n, el) { return n + (el.files ? el.files.length : 0); }, 0);
    if (photos > MAX_PHOTOS && !navigator.onLine) { fail(new Error(t("photos"))); return; }
    if (!navigator.onLine) { queueForm(form).then(done, fail); return; }
    var submitter = e.submitter;
    postForm(form, submitter).then(function (resp) {
      if (resp.redirected) { location.assign(resp.url); return; }
      // The server answered with a page (the form with its messages; nothing was saved): post it
      // the ordinary way so the browser shows that page. The key makes a repeat harmless.
      if (submitter && submitter.name) {
        var extra = document.createElement("input");
        extra.type = "hidden"; extra.name = submitter.name; extra.value = submitter.value;
        form.appendChild(extra);
      }
      HTMLFormElement.prototype.submit.call(form);
    }, function () {
      // No answer from the network: keep it on the phone (the key makes a late arrival harmless).
      return queueForm(form);
    }).then(done, fail);
  }

  document.addEventListener("submit", onSubmit);

  // Signing out: forget this worker's cached pages so the next person never sees them, and the
  // security token kept for the service worker's sending.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || !/\/logout\/?$/.test(form.getAttribute("action") || "")) return;
    if (!window.caches || form.dataset.cleared) return;
    e.preventDefault();
    store("meta", "readwrite", function (s) { s.delete("csrf:" + USER); }).catch(function () {}).then(function () {
      return caches.keys();
    }).then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("fw-pages-") === 0; }).map(function (n) { return caches.delete(n); }));
    }).catch(function () {}).then(function () { form.dataset.cleared = "1"; form.submit(); });
  }, true);

  // ------------------------------------------------------------ service worker and the bundle

  var precached = null;

  // The worker registered for this user. Right after someone else signed out on this phone, the
  // active worker is still theirs (it keeps their pages and is being replaced): wait for ours to
  // take over, or a request sent to the old one may never be answered.
  function ownWorker(reg) {
    function mine(w) {
      try { return !!w && new URL(w.scriptURL).searchParams.get("u") === USER; } catch (e) { return false; }
    }
    if (mine(reg.active)) return Promise.resolve(reg.active);
    var next = [reg.waiting, reg.installing].filter(mine)[0];
    if (!next) return Promise.resolve(reg.active || navigator.serviceWorker.controller);
    return new Promise(function (resolve) {
      var timer = setTimeout(function () { resolve(reg.active || next); }, 30000);
      next.addEventListener("statechange", function () {
        if (next.state === "activated") { clearTimeout(timer); resolve(next); }
        else if (next.state === "redundant") { clearTimeout(timer); resolve(reg.active); }
      });
    });
  }

  function precache() {
    if (precached) return precached;
    precached = Promise.resolve(null);
    if (!navigator.onLine || cfg.fresh === "0" || !cfg.bundle || !("serviceWorker" in navigator)) return precached;
    precached = fetch(cfg.bundle, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return null;
        var urls = (data.households || []).map(function (h) { return h.visit_url; }).filter(Boolean);
        if (cfg.queueUrl) urls.unshift(cfg.queueUrl);
        var stamp = urls.join(",");
        return Promise.all([saveBundle(data), lastPrecache()]).then(function (res) {
          var last = res[1];
          // The same forms were kept less than 30 minutes ago by this worker: nothing to fetch.
          if (last && last.stamp === stamp && Date.now() - last.at < 30 * 60000 && navigator.serviceWorker.controller) return { kept: 0, skipped: urls.length };
          return navigator.serviceWorker.ready.then(ownWorker).then(function (worker) {
            return new Promise(function (resolve) {
              var channel = new MessageChannel();
              var timer = setTimeout(function () { resolve(null); }, 60000);
              channel.port1.onmessage = function (ev) { clearTimeout(timer); resolve(ev.data); };
              worker.postMessage({ type: "precache", urls: urls }, [channel.port2]);
            }).then(function (res) {
              if (res && !res.failed) store("meta", "readwrite", function (s) { s.put({ id: "precache:" + USER, user: USER, stamp: stamp, at: Date.now() }); });
              return res;
            });
          });
        });
      })
      .catch(function () { return null; })
      .then(function (res) { window.__linliPrecached = true; document.dispatchEvent(new CustomEvent("linli-precached", { detail: res })); return res; });
    return precached;
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator) || !cfg.sw) return Promise.resolve(null);
    return navigator.serviceWorker.register(cfg.sw + "?u=" + encodeURIComponent(USER), { scope: "/fieldwork/" }).catch(function () { return null; });
  }

  function start() {
    showOffline();
    // A page from the phone's cache carries the key it was saved with: every new record needs its own.
    document.querySelectorAll("form[data-queue]").forEach(function (form) {
      var input = keyInput(form);
      if (input && (!input.value || cfg.fresh === "0")) input.value = uuid();
      // "Now" was when the page was kept, not when it is used.
      if (cfg.fresh === "0") form.querySelectorAll("input[type=datetime-local]").forEach(function (el) {
        if (!el.hasAttribute("data-now") && !(el.value && el.value === el.max)) return;
        var d = new Date(), local = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
        el.value = local;
        if (el.max) el.max = local;
      });
    });
    changed();
    if (cfg.user && cfg.user !== "anon" && cfg.user !== "u") {
      registerWorker().then(function () { if (cfg.precache !== "0") precache(); });
    }
    flush();
    setInterval(function () { flush(); }, 30000);
    window.addEventListener("online", function () { showOffline(); flush(true); });
    // The service worker sent the queue in the background (Background Sync): recount.
    if ("serviceWorker" in navigator) navigator.serviceWorker.addEventListener("message", function (ev) {
      if (ev.data && ev.data.type === "fw-queue-sent") changed();
    });
    window.addEventListener("offline", showOffline);
  }

  window.LinliQueue = {
    add: add, pending: pending, flush: flush, waiting: waiting, refused: refused, dismiss: dismiss,
    bundle: bundle, precache: precache, uuid: uuid, user: USER,
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
