/* The grid worker's patrol page: start / end, the live route, today's time against the minimum.
   Location points are buffered on the phone and sent every 30 s or 20 points. With the offline
   queue (window.LinliQueue, queue.js) every start / batch / end goes through it; without it they
   go straight to /api/fieldwork/patrols, kept in localStorage until the server has them. The
   active patrol itself is kept in localStorage too, so a reload or no signal loses nothing. */
(function () {
  "use strict";
  var app = document.getElementById("patrol-app");
  if (!app || !window.LinliMap) { return; }
  var T = app.dataset;
  var S = LinliMap.readJSON("patrol-state") || {};
  var status = document.getElementById("fw-status");
  var who = (status && status.dataset.user) || "u";
  var STORE = "linli.patrol." + who, OUTBOX = "linli.patrol.outbox." + who;
  var BATCH = 20, EVERY_MS = 30000, MIN_GAP_MS = 4000, MAX_ACCURACY = 200;

  function $(id) { return document.getElementById(id); }
  function load(k, dflt) { try { var v = JSON.parse(localStorage.getItem(k)); return v == null ? dflt : v; } catch (e) { return dflt; } }
  function keep(k, v) { try { if (v == null) { localStorage.removeItem(k); } else { localStorage.setItem(k, JSON.stringify(v)); } } catch (e) { /* storage full: keep going in memory */ } }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function fmt(t, values) { return t.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; }); }
  function duration(seconds) {
    var m = Math.floor(Math.max(0, seconds) / 60), h = Math.floor(m / 60);
    if (h && !(m % 60)) { return fmt(T.tH, { h: h }); }
    return h ? fmt(T.tHm, { h: h, m: m % 60 }) : fmt(T.tM, { m: m });
  }
  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return [h, m, s].map(function (n) { return (n < 10 ? "0" : "") + n; }).join(":");
  }
  function csrf() {
    var el = document.querySelector("input[name=csrfmiddlewaretoken]");
    return (status && status.dataset.csrf) || (el && el.value) || "";
  }
  function haversine(a, b) {
    var r = Math.PI / 180, dLat = (b[0] - a[0]) * r, dLng = (b[1] - a[1]) * r;
    var x = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(a[0] * r) * Math.cos(b[0] * r) * Math.sin(dLng / 2) * Math.sin(dLng / 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(x)));
  }

  // ------------------------------------------------------------ state
  var st = load(STORE, null);   // the active patrol: {key, startedAt, grid, buffer, trail, dist, lastFlush}
  var outbox = load(OUTBOX, []); // direct mode: requests the server has not answered yet
  if (S.active) {
    if (!st || st.key !== S.active.key) {
      st = { key: S.active.key, startedAt: S.active.started_at, grid: S.active.grid, buffer: [], trail: S.active.points, dist: S.active.distance_m || 0, lastFlush: Date.now(), confirmed: true };
    } else {
      st.confirmed = true;
      if (S.active.points.length > (st.trail || []).length) { st.trail = S.active.points; }
      st.dist = Math.max(st.dist || 0, S.active.distance_m || 0);
    }
  } else if (st && st.confirmed) {
    // The server ended it meanwhile (ended on another phone, or closed after long silence).
    st = null;
  }
  keep(STORE, st);

  // ------------------------------------------------------------ sending
  function queued() { return !!(window.LinliQueue && window.LinliQueue.add); }

  function send(kind, payload, key) {
    if (queued()) { return Promise.resolve(window.LinliQueue.add(kind, payload, key)).catch(function () { return null; }); }
    outbox.push({ kind: kind, payload: payload, key: key });
    keep(OUTBOX, outbox);
    drain();
    return Promise.resolve(key);
  }

  // Until the offline queue has sent everything (a few tries; with no signal it keeps them).
  function settleQueue(tries) {
    var Q = window.LinliQueue;
    return Promise.resolve(Q.flush(true)).then(function () { return Q.pending(); }).then(function (n) {
      if (n === 0) { return true; }
      if (tries <= 0 || !navigator.onLine) { return false; }
      return new Promise(function (r) { setTimeout(r, 400); }).then(function () { return settleQueue(tries - 1); });
    });
  }

  function request(item) {
    var p = item.payload, url = S.api, body;
    if (item.kind === "patrol_start") {
      body = { grid_id: p.grid || null, started_at: p.started_at, lat: p.lat, lng: p.lng, client_key: item.key };
    } else if (item.kind === "patrol_points") {
      url += "/" + encodeURIComponent(p.patrol) + "/points"; body = { points: p.points };
    } else {
      url += "/" + encodeURIComponent(p.patrol) + "/end"; body = { ended_at: p.ended_at, note: p.note || "" };
    }
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body)
    });
  }

  var draining = null;
  function drain() {
    if (draining) { return draining; }
    draining = (function next() {
      if (!outbox.length) { return Promise.resolve(true); }
      var item = outbox[0];
      return request(item).then(function (r) {
        if (r.status >= 500) { throw new Error("server " + r.status); }
        return r.json().catch(function () { return {}; }).then(function (data) {
          outbox.shift(); keep(OUTBOX, outbox);
          if (!r.ok) { refused([data.message || r.status]); }
          else if (item.kind === "patrol_start" && st && st.key === item.key) { st.confirmed = true; keep(STORE, st); }
          else if (data.refused && data.refused.length) { refused(data.refused.map(function (x) { return x.message; })); }
          return next();
        });
      });
    })().catch(function () {
      setTimeout(drain, 15000);
      return false;
    }).then(function (done) { draining = null; return done; });
    return draining;
  }
  window.addEventListener("online", function () { drain(); });

  function refused(messages) {
    var box = $("patrol-refused");
    var uniq = messages.filter(function (m, i) { return messages.indexOf(m) === i; });
    box.textContent = T.tRefused + " " + uniq.join("；");
    box.hidden = false;
  }

  // ------------------------------------------------------------ the map
  var map = LinliMap.create($("patrol-map"), "patrol-geo");
  if (st && st.trail && st.trail.length) { map.route(st.trail); }

  // ------------------------------------------------------------ location
  var watch = null;
  function note(text) { var n = $("gps-note"); n.textContent = text || ""; n.hidden = !text; }

  function flush(force) {
    if (!st || !st.buffer.length) { return Promise.resolve(null); }
    if (!force && st.buffer.length < BATCH && Date.now() - st.lastFlush < EVERY_MS) { return Promise.resolve(null); }
    var batch = st.buffer.splice(0);
    st.lastFlush = Date.now();
    keep(STORE, st);
    return send("patrol_points", { patrol: st.key, points: batch }, uuid());
  }

  function onPosition(pos) {
    if (!st) { return; }
    var c = pos.coords, at = pos.timestamp || Date.now();
    if (c.accuracy && c.accuracy > MAX_ACCURACY) { note(fmt(T.tGpsPoor, { m: Math.round(c.accuracy) })); return; }
    note("");
    var here = [Math.round(c.latitude * 1e7) / 1e7, Math.round(c.longitude * 1e7) / 1e7];
    var trail = st.trail || (st.trail = []);
    var last = trail.length ? trail[trail.length - 1] : null;
    if (st.lastAt && at - st.lastAt < MIN_GAP_MS && last && haversine(last, here) < 10) { return; }
    if (last) { st.dist = (st.dist || 0) + haversine(last, here); }
    st.lastAt = at;
    st.buffer.push({ at: new Date(at).toISOString(), lat: here[0], lng: here[1], accuracy: c.accuracy ? Math.round(c.accuracy) : null });
    trail.push(here);
    if (trail.length > 2000) { trail.splice(0, trail.length - 2000); }
    map.extend(here);
    keep(STORE, st);
    flush(false);
    tick();
  }

  function startWatch() {
    if (!navigator.geolocation) { note(T.tGpsOff); return; }
    if (watch !== null) { return; }
    note(T.tGpsWait);
    watch = navigator.geolocation.watchPosition(onPosition, function (err) {
      if (err && err.code === 1) { note(T.tGpsOff); }
    }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
  }
  function stopWatch() { if (watch !== null && navigator.geolocation) { navigator.geolocation.clearWatch(watch); } watch = null; }

  // ------------------------------------------------------------ the screen
  function midnight() { var d = new Date(); d.setHours(0, 0, 0, 0); return d.getTime(); }
  function tick() {
    var now = Date.now(), started = st ? Date.parse(st.startedAt) : 0;
    var todayActive = st ? Math.max(0, (now - Math.max(started, midnight())) / 1000) : 0;
    var done = (S.ended_today || 0) + Math.min(todayActive, 12 * 3600);
    var min = S.min_seconds || 0;
    $("today-text").textContent = fmt(T.tToday, { done: duration(done), min: duration(min) });
    var pct = min ? Math.min(100, Math.round(100 * done / min)) : 100;
    $("today-bar").style.width = pct + "%";
    $("today-bar").parentNode.setAttribute("aria-valuenow", pct);
    $("today-met").hidden = pct < 100;
    if (st) {
      $("patrol-clock").textContent = clock((now - started) / 1000);
      $("patrol-stats").textContent = fmt(T.tPoints, { n: (st.trail || []).length, km: ((st.dist || 0) / 1000).toFixed(2) });
    }
  }

  function show() {
    var on = !!st;
    app.classList.toggle("is-active", on);
    $("start-form").hidden = on;
    $("end-form").hidden = !on;
    $("patrol-clock").hidden = !on;
    $("patrol-stats").hidden = !on;
    if (on) {
      var d = new Date(st.startedAt), hm = (d.getHours() < 10 ? "0" : "") + d.getHours() + ":" + (d.getMinutes() < 10 ? "0" : "") + d.getMinutes();
      $("patrol-status").textContent = fmt(T.tOn, { at: hm });
    }
    tick();
  }

  $("start-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var pick = $("grid");
    st = {
      key: uuid(), startedAt: new Date().toISOString(),
      grid: pick ? parseInt(pick.value, 10) : ((S.grids && S.grids[0]) || {}).id,
      buffer: [], trail: [], dist: 0, lastFlush: Date.now(), confirmed: false
    };
    keep(STORE, st);
    map.route([]);
    $("patrol-refused").hidden = true;
    send("patrol_start", { grid: st.grid, started_at: st.startedAt }, st.key);
    show();
    startWatch();
  });

  $("end-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!st) { return; }
    var key = st.key, ended = new Date().toISOString();
    var adds = [flush(true), send("patrol_end", { patrol: key, ended_at: ended }, uuid())];
    stopWatch();
    S.ended_today = (S.ended_today || 0) + Math.max(0, (Date.now() - Math.max(Date.parse(st.startedAt), midnight())) / 1000);
    st = null;
    keep(STORE, null);
    $("patrol-status").textContent = T.tSending;
    show();
    var done = S.done_url.replace("KEY", encodeURIComponent(key));
    Promise.all(adds).then(function () { return queued() ? settleQueue(8) : drain(); }).then(function (ok) {
      if (ok) { window.location.href = done; } else { $("patrol-status").textContent = T.tSaved; }
    }, function () { $("patrol-status").textContent = T.tSaved; });
  });

  show();
  if (st) { startWatch(); }
  if (outbox.length) { drain(); }
  setInterval(tick, 1000);
  setInterval(function () { flush(false); }, 5000);
})();
