// The live dashboard: each point's row and the four park figures follow the WBM API's server-sent events
// in place (a park of 250 points sends hundreds of events a second; re-rendering the whole table for each
// would cost the head and the browser far more). A point the table does not show yet fetches the table anew.
"use strict";

(function () {
  var root = document.getElementById("dashboard");
  if (!root || !root.dataset.live) { return; }
  var shown = JSON.parse(root.dataset.statusText);  // status -> its text in the page's language
  var occupied = JSON.parse(root.dataset.occupied);  // the statuses counted as occupied (wbm/live.py)
  var points = {};  // uid -> [status, power W]
  var refreshing = null;

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function duration(s) {
    s = Math.floor(s || 0);
    return Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
  }
  function set(row, cls, text) {
    var cell = row.querySelector("td." + cls);
    if (cell && cell.textContent !== text) { cell.textContent = text; }
  }

  function seed() {
    points = {};
    root.querySelectorAll("tr[data-uid]").forEach(function (row) {
      points[row.dataset.uid] = [row.dataset.status, Number(row.dataset.power || 0)];
    });
  }

  function figures() {
    var n = { available: 0, occupied: 0, charging: 0 }, power = 0;
    Object.keys(points).forEach(function (uid) {
      var status = points[uid][0];
      if (status === "Available") { n.available += 1; }
      if (status === "Charging") { n.charging += 1; }
      if (occupied.indexOf(status) >= 0) { n.occupied += 1; }
      power += points[uid][1];
    });
    document.getElementById("fig-available").textContent = String(n.available);
    document.getElementById("fig-occupied").textContent = String(n.occupied);
    document.getElementById("fig-charging").textContent = String(n.charging);
    document.getElementById("fig-power").textContent = formatNumber(power / 1000, 1) + " kW";
  }

  function refresh() {
    if (refreshing) { return; }
    refreshing = setTimeout(function () {
      htmx.ajax("GET", "/wbm/fragments/dashboard", { target: "#dashboard", swap: "innerHTML" }).then(function () {
        refreshing = null;
        seed();
      });
    }, 1000);
  }

  function onLive(e) {
    var p = JSON.parse(e.data);
    if (p.configured === false) { return; }  // the dashboard shows configured points only
    var row = root.querySelector("tr[data-uid='" + CSS.escape(e.lastEventId) + "']");
    if (!row) { refresh(); return; }
    var status = p.status || "Unavailable";
    var power = p.energy && p.energy.real_power ? p.energy.real_power.value : 0;
    var cell = row.querySelector("td.status");
    cell.className = "status " + status;
    set(row, "status", (shown[status] || status) + (p.bus_state !== "online" ? " (" + root.dataset.offline + ")" : ""));
    set(row, "power", formatNumber(power / 1000, 2) + " kW");
    set(row, "energy", formatNumber(((p.session || {}).energy_wh || 0) / 1000, 2) + " kWh");
    set(row, "charge-time", duration(p.charge_time_sec));
    set(row, "plug-time", duration(p.connected_time_sec));
    points[e.lastEventId] = [status, power];
    figures();
  }

  seed();
  new EventSource("/api/wbm/events").addEventListener("live", onLive);
})();
