// Live plots (power and L1..L3 currents) of one point or of the park, drawn by Chart.js (Debian's
// libjs-chart.js, served by the head). Each opens with the data hub's stored history of the chosen window
// (15 min, 1 h, 24 h: /api/wbm/plot/...) and then appends the live samples of the server-sent events.
"use strict";

(function () {
  var SERIES = ["power_w", "i1_a", "i2_a", "i3_a"];
  var ENERGY = ["real_power", "i1", "i2", "i3"];  // the same series in a live message's energy object
  var COLOURS = ["#0b3a5b", "#c0392b", "#27ae60", "#8e44ad"];
  var SECONDS = { "15m": 900, "1h": 3600, "24h": 86400 };
  var plots = [];

  // The page's language, not the browser's: a German page shows 13:02:10, an English one 1:02:10 PM; the
  // chart's locale formats its axes' numbers and its tooltips' values alike (0,5 kW / 0.5 kW).
  var LANG = document.documentElement.lang || undefined;
  function label(t) { return new Date(t * 1000).toLocaleTimeString(LANG); }

  function setup(canvas) {
    var plot = { canvas: canvas, uid: canvas.dataset.uid || "", window: "15m", latest: {} };
    plot.chart = new Chart(canvas, {
      type: "line",
      data: { labels: [], datasets: SERIES.map(function (key, n) {
        return { label: canvas.dataset["label" + n], data: [], yAxisID: n ? "a" : "w", pointRadius: 0,
                 borderWidth: 2, borderColor: COLOURS[n], backgroundColor: COLOURS[n] };
      }) },
      options: { animation: false, locale: LANG, scales: { w: { position: "left", title: { display: true, text: "kW" } },
                                            a: { position: "right", title: { display: true, text: "A" } } } },
    });
    plots.push(plot);
    load(plot, "15m");
    var box = canvas.closest("section");
    (box ? box.querySelectorAll("button[data-window]") : []).forEach(function (b) {
      b.addEventListener("click", function () { load(plot, b.dataset.window); });
    });
    if (!plot.uid) {  // the park: the sum of every point's latest sample, once a second
      setInterval(function () {
        var sum = [0, 0, 0, 0];
        Object.keys(plot.latest).forEach(function (uid) {
          plot.latest[uid].forEach(function (v, n) { sum[n] += v || 0; });
        });
        append(plot, Date.now() / 1000, sum);
      }, 1000);
    }
  }

  function load(plot, window) {
    plot.window = window;
    var path = plot.uid ? "/api/wbm/plot/points/" + encodeURIComponent(plot.uid) : "/api/wbm/plot/park";
    fetch(path + "?window=" + window, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (h) {
      var c = plot.chart;
      c.data.labels = [];
      c.data.datasets.forEach(function (d) { d.data = []; });
      if (h) {
        h.t.forEach(function (t, i) {
          c.data.labels.push(label(t));
          SERIES.forEach(function (key, n) { c.data.datasets[n].data.push(n ? h[key][i] : h[key][i] / 1000); });
        });
      }
      plot.start = c.data.labels.length;
      c.update();
      plot.canvas.dataset.stored = String(plot.start);
      plot.canvas.dataset.window = window;
    });
  }

  function append(plot, t, values) {
    var c = plot.chart;
    c.data.labels.push(label(t));
    values.forEach(function (v, n) { c.data.datasets[n].data.push(v === null ? null : (n ? v : v / 1000)); });
    var keep = SECONDS[plot.window] + (plot.start || 0);  // live samples come about once a second
    while (c.data.labels.length > keep) {
      c.data.labels.shift();
      c.data.datasets.forEach(function (d) { d.data.shift(); });
    }
    c.update();
    plot.canvas.dataset.samples = String(c.data.labels.length - (plot.start || 0));
  }

  function onLive(e) {
    var energy = JSON.parse(e.data).energy || {};
    var values = ENERGY.map(function (key) { return energy[key] ? energy[key].value : null; });
    plots.forEach(function (plot) {
      if (!plot.uid) { plot.latest[e.lastEventId] = values; } else if (plot.uid === e.lastEventId) {
        append(plot, Date.now() / 1000, values);
      }
    });
  }

  if (typeof Chart === "undefined") { return; }
  document.querySelectorAll("canvas.live-plot").forEach(setup);
  if (plots.length) {  // one point's plot asks for that point's events only
    var only = plots.length === 1 && plots[0].uid ? "?uid=" + encodeURIComponent(plots[0].uid) : "";
    new EventSource("/api/wbm/events" + only).addEventListener("live", onLive);
  }
})();
