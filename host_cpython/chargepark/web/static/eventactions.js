// The Event Actions page's inputs and outputs follow the point's live state (the WBM API's server-sent
// events of this point only), in place like the dashboard's rows. The editor's answers swap the page's
// main part: each update looks its cells up anew.
"use strict";

(function () {
  var root = document.getElementById("ea-io");
  if (!root || !root.dataset.live) { return; }
  var text = JSON.parse(root.dataset.ioText);  // "true"/"false" and each output mode -> its text

  function set(id, value) {
    var cell = document.getElementById(id);
    if (cell && cell.textContent !== value) { cell.textContent = value; }
  }

  function onLive(e) {
    var io = JSON.parse(e.data).io;
    if (!io) { return; }
    (io.inputs || []).forEach(function (v, i) { set("io-di-" + (i + 1), text[String(v)]); });
    (io.analog_mv || []).forEach(function (v, i) { set("io-ai-" + (i + 1), formatNumber(v / 1000, 2) + " V"); });
    (io.outputs || []).forEach(function (v, i) { set("io-do-" + (i + 1), text[v] || text.unknown); });
  }

  new EventSource("/api/wbm/events?uid=" + encodeURIComponent(root.dataset.uid)).addEventListener("live", onLive);
})();
