/* Field forms (visit, quick report, arrival): a fresh idempotency key per form, the phone's
   location on a tap, the questions of the chosen category, and the follow-up fields shown only
   for a follow-up visit. The offline
   queue (queue.js) reads the same form when there is no signal. */
(function () {
  "use strict";
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function fill(form) {
    var key = form.querySelector("[data-client-key]");
    if (key && !key.value) { key.value = uuid(); }
  }
  document.querySelectorAll("form[data-queue]").forEach(function (form) {
    fill(form);
    // After the queue keeps a form on the phone it resets it; the follow-up fields follow.
    form.addEventListener("linli-queued", function () { fill(form); if (sync) { sync(); } });
    var gps = form.querySelector("[data-gps]");
    if (gps) {
      if (!navigator.geolocation) { gps.hidden = true; }
      gps.addEventListener("click", function () {
        var status = form.querySelector("[data-gps-status]");
        gps.disabled = true;
        navigator.geolocation.getCurrentPosition(function (pos) {
          gps.disabled = false;
          form.querySelector("[data-lat]").value = pos.coords.latitude.toFixed(6);
          form.querySelector("[data-lng]").value = pos.coords.longitude.toFixed(6);
          if (status) { status.textContent = "✓ " + pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5); }
        }, function () {
          gps.disabled = false;
          if (status) { status.textContent = "×"; }
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }
    // The chosen category's questions, from the page itself (each category's are in a
    // <template>), so a category can be changed with no signal.
    var kind = form.querySelector("select[data-attributes]");
    if (kind) {
      var box = document.getElementById(kind.getAttribute("data-attributes"));
      var show = function () {
        var t = form.querySelector('template[data-attributes-for="' + kind.value + '"]');
        while (box.firstChild) { box.removeChild(box.firstChild); }
        if (t) { box.appendChild(t.content.cloneNode(true)); }
      };
      kind.addEventListener("change", show);
      form.addEventListener("linli-queued", show);
    }
    var follow = form.querySelector("#follow-up"), sync = null;
    if (follow) {
      sync = function () {
        var k = form.querySelector("input[name=kind]:checked");
        follow.hidden = !(k && k.value === "follow_up");
      };
      form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", sync); });
      sync();
    }
  });
})();
