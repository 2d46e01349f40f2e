/* Field-work maps with Leaflet and no tiles: the grid boundary as the background, and points or
   a route on top. Shared by the field pages:
     var m = LinliMap.create(el, geojson);          // boundary (Feature, FeatureCollection or geometry)
     m.route([[lat, lng], ...]);                    // a route with start / end markers
     m.extend([lat, lng]);                          // one more point on the route (live patrols)
     m.point([lat, lng], {color: "#b5432c"});       // a single marker
   The map works offline: nothing is fetched. */
(function () {
  "use strict";
  var boundaryStyle = { color: "#1f5f8b", weight: 2, fillColor: "#1f5f8b", fillOpacity: 0.06 };
  var routeStyle = { color: "#b5432c", weight: 4, opacity: 0.85, lineJoin: "round" };

  function readJSON(id) {
    var el = id && document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function create(el, geo) {
    if (typeof geo === "string") { geo = readJSON(geo); }
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    var area = null, line = null, start = null, end = null;
    if (geo && (geo.type || geo.features)) {
      area = L.geoJSON(geo, { style: boundaryStyle, interactive: false }).addTo(map);
      area.eachLayer(function (l) {
        var name = l.feature && l.feature.properties && l.feature.properties.name;
        if (name && l.getBounds) {
          L.tooltip({ permanent: true, direction: "center", className: "grid-label", interactive: false })
            .setLatLng(l.getBounds().getCenter()).setContent(name).addTo(map);
        }
      });
    }
    // The route when there is one (the boundary stays around it), else the whole boundary.
    function fit() {
      var b = area && area.getBounds && area.getBounds().isValid() ? area.getBounds() : null;
      if (line && line.getLatLngs().length) { b = L.latLngBounds(line.getLatLngs()); }
      if (b && b.isValid()) { map.fitBounds(b, { padding: [24, 24], maxZoom: 18, animate: false }); } else { map.setView([31.3, 120.6], 13); }
    }
    function marker(latlng, color, label) {
      var m = L.circleMarker(latlng, { radius: 8, color: color, weight: 3, fillColor: "#fff", fillOpacity: 1 }).addTo(map);
      if (label) { m.bindTooltip(label, { direction: "top" }); }
      return m;
    }
    var api = {
      map: map,
      area: area,
      route: function (latlngs, labels) {
        labels = labels || {};
        if (line) { map.removeLayer(line); }
        if (start) { map.removeLayer(start); start = null; }
        if (end) { map.removeLayer(end); end = null; }
        line = L.polyline(latlngs || [], routeStyle).addTo(map);
        if (latlngs && latlngs.length) {
          start = marker(latlngs[0], "#22704a", labels.start);
          if (latlngs.length > 1 || labels.end) { end = marker(latlngs[latlngs.length - 1], "#b5432c", labels.end); }
        }
        fit();
        return line;
      },
      extend: function (latlng) {
        if (!line) { api.route([latlng]); return; }
        line.addLatLng(latlng);
        if (!start) { start = marker(latlng, "#22704a"); }
        if (end) { end.setLatLng(latlng); } else if (line.getLatLngs().length > 1) { end = marker(latlng, "#b5432c"); }
        // Follow the walker: zoom in on the first fix, keep the newest one in view.
        if (line.getLatLngs().length <= 2) { map.setView(latlng, Math.max(map.getZoom(), 16), { animate: false }); }
        else if (!map.getBounds().pad(-0.1).contains(latlng)) { map.panTo(latlng); }
      },
      point: function (latlng, opts) {
        opts = opts || {};
        return marker(latlng, opts.color || "#b5432c", opts.label);
      },
      fit: fit
    };
    fit();
    return api;
  }

  window.LinliMap = { create: create, readJSON: readJSON };
})();
