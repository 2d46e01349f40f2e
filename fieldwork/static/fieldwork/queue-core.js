/* The offline queue's storage and sending, shared by the field pages (queue.js) and the service
 * worker (sw.js, which sends what is waiting when the connection returns with no field page
 * open: Background Sync). No DOM here: it runs in a page and in a worker alike.
 *
 * self.linliQueueCore({user, syncUrl, csrf, onSending}) answers the functions below; `csrf` is a
 * function answering the token (or a promise of it), `onSending` is told when a batch leaves.
 */
(function (root) {
  "use strict";
  if (root.linliQueueCore) return;

  var DB_NAME = "linli-fieldwork";
  var MAX_BATCH = 100;
  var MAX_BATCH_BYTES = 4 * 1024 * 1024; // the server refuses bodies over 5 MB
  var dbPromise = null;

  function db() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = root.indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var d = req.result;
        ["queue", "refused"].forEach(function (name) {
          var s = d.createObjectStore(name, { keyPath: "id" });
          s.createIndex("user", "user");
        });
        d.createObjectStore("meta", { keyPath: "id" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { dbPromise = null; reject(req.error); };
    });
    return dbPromise;
  }

  function store(name, mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction(name, mode);
        var out = fn(tx.objectStore(name));
        tx.oncomplete = function () { resolve(out && "result" in out ? out.result : out); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  // A weak signal can leave a request hanging: give up after a while (the key makes a late
  // arrival of the same item harmless).
  function timedFetch(url, options, ms) {
    if (!root.AbortController) return fetch(url, options);
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, ms);
    return fetch(url, Object.assign({}, options, { signal: ctl.signal })).then(function (r) { clearTimeout(timer); return r; }, function (e) { clearTimeout(timer); throw e; });
  }

  function backoff(item, message) {
    item.attempts += 1;
    item.next_at = Date.now() + Math.min(300000, 2000 * Math.pow(2, item.attempts));
    if (message) item.last_error = message;
    return item;
  }

  function sizeOf(item) {
    try { return new Blob([JSON.stringify(item)]).size; } catch (e) { return 1000; }
  }

  root.linliQueueCore = function (opts) {
    var USER = opts.user;
    var batchLimit = MAX_BATCH;

    function mine(name) {
      return store(name, "readonly", function (s) { return s.index("user").getAll(USER); }).then(function (rows) {
        return (rows || []).sort(function (a, b) { return a.seq - b.seq; });
      });
    }

    function putAll(rows) {
      return store("queue", "readwrite", function (s) { rows.forEach(function (r) { s.put(r); }); });
    }

    function moveToRefused(item, result) {
      return db().then(function (d) {
        return new Promise(function (resolve, reject) {
          var tx = d.transaction(["queue", "refused"], "readwrite");
          tx.objectStore("queue").delete(item.id);
          var r = Object.assign({}, item, { code: result.code, message: result.message, message_en: result.message_en, refused_at: new Date().toISOString() });
          tx.objectStore("refused").put(r);
          tx.oncomplete = resolve;
          tx.onerror = function () { reject(tx.error); };
        });
      });
    }

    function settle(batch, results) {
      var byKey = {};
      results.forEach(function (r) { if (r && r.key) byKey[r.key] = r; });
      return db().then(function (d) {
        return new Promise(function (resolve, reject) {
          var tx = d.transaction(["queue", "refused", "meta"], "readwrite");
          var q = tx.objectStore("queue"), ref = tx.objectStore("refused");
          batch.forEach(function (item) {
            var r = byKey[item.key];
            if (!r) { q.put(backoff(item, "")); return; }
            if (r.status === "ok" || r.status === "duplicate") {
              q.delete(item.id);
              tx.objectStore("meta").put({ id: "sent:" + item.id, user: USER, key: item.key, kind: item.kind, object: r.id, at: new Date().toISOString() });
            } else if (r.status === "refused") {
              q.delete(item.id);
              ref.put(Object.assign({}, item, { code: r.code, message: r.message, message_en: r.message_en, refused_at: new Date().toISOString() }));
            } else {
              q.put(backoff(item, r.message || ""));
            }
          });
          tx.oncomplete = resolve;
          tx.onerror = function () { reject(tx.error); };
        });
      });
    }

    // One batch; answers whether to go on with the next.
    function send(batch) {
      var body = JSON.stringify({ items: batch.map(function (r) { return { key: r.key, kind: r.kind, payload: r.payload }; }) });
      return Promise.resolve(opts.csrf()).then(function (token) {
        return timedFetch(opts.syncUrl, {
          method: "POST", credentials: "same-origin", body: body,
          headers: { "Content-Type": "application/json", "X-CSRFToken": token || "", "Accept": "application/json" },
        }, 60000);
      }).then(function (resp) {
        if (resp.ok) {
          batchLimit = MAX_BATCH;
          return resp.json().then(function (data) { return settle(batch, data.results || []); }).then(function () { return true; });
        }
        return resp.json().catch(function () { return {}; }).then(function (err) {
          var message = err.message || ("HTTP " + resp.status);
          if ((resp.status === 400 || resp.status === 413 || resp.status === 422) && batch.length > 1) {
            batchLimit = 1; // find the one item the server cannot take
            return true;
          }
          if ((resp.status === 400 || resp.status === 413 || resp.status === 422) && batch.length === 1) {
            return moveToRefused(batch[0], { code: err.code || "refused", message: message, message_en: err.message_en || message }).then(function () { return true; });
          }
          // Signed out, stale security token, server trouble: keep everything and try later.
          return putAll(batch.map(function (r) { return backoff(r, message); })).then(function () { return false; });
        });
      }, function () {
        // The network failed: nothing was answered; the items stay.
        return putAll(batch.map(function (r) { return backoff(r, ""); })).then(function () { return false; });
      });
    }

    // Send what is due (everything with `force`), batch after batch; answers how many were sent.
    // One sender at a time per user (Web Locks: the open pages and the service worker): the
    // second finds the queue already sent, rather than sending the same records again.
    function sendAll(force) {
      var locks = root.navigator && root.navigator.locks;
      if (!locks) return sendDue(force);
      return locks.request("linli-fw-queue:" + USER, function () { return sendDue(force); });
    }

    function sendDue(force) {
      return mine("queue").then(function (rows) {
        var now = Date.now();
        var ready = rows.filter(function (r) { return force || !r.next_at || r.next_at <= now; });
        if (!ready.length) return 0;
        var batch = [], bytes = 0;
        for (var i = 0; i < ready.length && batch.length < batchLimit; i++) {
          var size = sizeOf(ready[i]);
          if (batch.length && bytes + size > MAX_BATCH_BYTES) break;
          batch.push(ready[i]);
          bytes += size;
        }
        if (opts.onSending) opts.onSending();
        return send(batch).then(function (more) {
          return more && batch.length < ready.length ? sendDue(force).then(function (n) { return n + batch.length; }) : batch.length;
        });
      });
    }

    return { db: db, store: store, mine: mine, timedFetch: timedFetch, sendAll: sendAll, putAll: putAll };
  };
})(typeof self !== "undefined" ? self : this);
