/* Work-order maps: grid boundaries as a plain background (no tiles), a point picked by tap or by
   the phone's location, and the nearby-duplicates hint. Also the small read-only order map. */
(function () {
  "use strict";
  function json(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  var style = { color: "#1f5f8b", weight: 1.5, fillColor: "#1f5f8b", fillOpacity: 0.07 };

  function baseMap(el, geo) {
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    var layer = null;
    if (geo && geo.features && geo.features.length) {
      layer = L.geoJSON(geo, { style: style, interactive: false }).addTo(map);
      // Grid names as quiet labels at each grid's centre (taps go to the map, never to a grid).
      layer.eachLayer(function (l) {
        var name = l.feature && l.feature.properties && l.feature.properties.name;
        if (name) { L.tooltip({ permanent: true, direction: "center", className: "grid-label", interactive: false }).setLatLng(l.getBounds().getCenter()).setContent(name).addTo(map); }
      });
      map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    } else {
      map.setView([31.3, 120.6], 13);
    }
    return { map: map, layer: layer };
  }

  // ---------------------------------------------------------------- the order page
  var om = document.getElementById("order-map");
  if (om) {
    var pt = json(om.dataset.point), area = json(om.dataset.geo);
    var b = baseMap(om, area);
    if (pt) {
      L.circleMarker([pt.lat, pt.lng], { radius: 8, color: "#b5432c", weight: 3, fillOpacity: 0.8 }).addTo(b.map);
      b.map.setView([pt.lat, pt.lng], Math.max(b.map.getZoom(), 16));
    }
  }

  // ---------------------------------------------------------------- the report form
  var el = document.getElementById("pick-map");
  if (!el) { return; }
  var form = document.getElementById("report-form");
  var lat = document.getElementById("lat"), lng = document.getElementById("lng");
  var status = document.getElementById("pick-status");
  var b2 = baseMap(el, json(el.dataset.geo));
  var marker = null;

  function nearby() {
    var cat = document.getElementById("category");
    var box = document.getElementById("nearby");
    if (!box || !cat || !cat.value || !lat.value) { if (box) { box.innerHTML = ""; } return; }
    var url = form.dataset.nearby + "?category=" + encodeURIComponent(cat.value) + "&lat=" + lat.value + "&lng=" + lng.value;
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { box.innerHTML = ""; });
  }

  function setPoint(la, ln, how) {
    lat.value = la.toFixed(6); lng.value = ln.toFixed(6);
    if (marker) { marker.setLatLng([la, ln]); } else {
      marker = L.marker([la, ln], { draggable: true, keyboard: false }).addTo(b2.map);
      marker.on("dragend", function () { var p = marker.getLatLng(); setPoint(p.lat, p.lng, status.dataset.picked); });
    }
    status.textContent = (how || status.dataset.picked || "✓") + " " + lat.value + ", " + lng.value;
    nearby();
  }
  status.dataset.picked = el.getAttribute("data-picked") || "✓";
  if (lat.value && lng.value) { setPoint(parseFloat(lat.value), parseFloat(lng.value)); b2.map.setView([parseFloat(lat.value), parseFloat(lng.value)], 16); }
  b2.map.on("click", function (e) { setPoint(e.latlng.lat, e.latlng.lng); });

  var locate = document.getElementById("locate");
  if (locate) {
    if (!navigator.geolocation) { locate.hidden = true; }
    locate.addEventListener("click", function () {
      locate.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        locate.disabled = false;
        setPoint(pos.coords.latitude, pos.coords.longitude);
        b2.map.setView([pos.coords.latitude, pos.coords.longitude], 17);
      }, function () {
        locate.disabled = false;
        status.textContent = locate.dataset.failed || "×";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
  var cat = document.getElementById("category");
  if (cat) { cat.addEventListener("change", nearby); }
})();
