// Charts of the key series from GET /api/v1/series/{name} (uPlot, vendored). Refreshed every 10 s.
(function () {
  "use strict";
  var root = document.getElementById("charts");
  if (!root || !window.uPlot) return;
  var plots = {};
  var PALETTE = ["#1f5fbf", "#c8322b", "#1e8e4a", "#c98a00", "#7b3fbf", "#0e8a8a", "#b8487a", "#5c6b7a"];

  // Axis numbers that stay readable for tiny values (a devnet's base fee is a fraction of a gwei).
  function tick(v) {
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a < 0.01) return v.toExponential(1);
    return String(Number(v.toPrecision(4)));
  }

  function shortAddr(a) { return a.length > 12 ? a.slice(0, 6) + "…" + a.slice(-4) : a; }

  function span() { return parseInt(document.getElementById("chart-span").value, 10) || 3600; }

  // The time range: the span select, or a custom from/to (datetime-local, UTC) when both are set.
  function range() {
    var f = document.getElementById("chart-from"), t = document.getElementById("chart-to");
    if (f && t && f.value && t.value) {
      var a = Date.parse(f.value + "Z") / 1000, b = Date.parse(t.value + "Z") / 1000;
      if (a < b) return [Math.floor(a), Math.ceil(b)];
    }
    var to = Math.floor(Date.now() / 1000) + 1;
    return [to - span(), to];
  }

  // Alert and incident markers: vertical lines on every chart (red: alert, blue dashed: incident).
  var markers = [];
  var MARK = { alert: { P0: "#c8322b", P1: "#e0702b", P2: "#c98a00" }, incident: "#1f5fbf" };
  function drawMarkers(u) {
    var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
    var min = u.scales.x.min, max = u.scales.x.max;
    markers.forEach(function (m) {
      if (min == null || m.t < min || m.t > max) return;
      var x = Math.round(u.valToPos(m.t, "x", true));
      ctx.save();
      ctx.strokeStyle = m.kind === "incident" ? MARK.incident : (MARK.alert[m.severity] || "#c98a00");
      ctx.lineWidth = 2;
      if (m.kind === "incident") ctx.setLineDash([6, 4]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      ctx.restore();
    });
  }
  function listMarkers() {
    var box = document.getElementById("chart-markers");
    if (!box) return;
    box.innerHTML = "";
    markers.forEach(function (m) {
      var li = document.createElement("li");
      li.className = "marker " + m.kind + " " + m.severity;
      li.dataset.kind = m.kind;
      var a = document.createElement("a");
      a.href = m.href;
      a.textContent = new Date(m.t * 1000).toISOString().replace("T", " ").slice(0, 19) + " " + m.severity + " " + m.label;
      li.appendChild(a);
      box.appendChild(li);
    });
    document.getElementById("chart-markers-empty").hidden = markers.length > 0;
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) { window.location.assign("/login?next=/charts"); throw new Error("signed out"); }
      if (!r.ok) throw new Error(url + " answered " + r.status);
      return r.json();
    });
  }

  function series(name, from, to, step) {
    var q = "?from=" + from + "&to=" + to + "&step=" + step;
    return fetchJSON("/api/v1/series/" + encodeURIComponent(name) + q).then(function (d) { return d.points; });
  }

  // Align several point lists on their bucket times; value(point) picks what to plot.
  function align(lists, value) {
    var times = {};
    lists.forEach(function (pts) { pts.forEach(function (p) { times[p.t] = true; }); });
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    var cols = lists.map(function (pts) {
      var byT = {};
      pts.forEach(function (p) { byT[p.t] = p; });
      return xs.map(function (t) { return byT[t] ? value(byT[t], byT) : null; });
    });
    return [xs].concat(cols);
  }

  // scales: optional scale name per series (a second name gets its own axis on the right).
  function draw(id, title, labels, data, units, scales) {
    var card = document.getElementById(id);
    var plotEl = card.querySelector(".plot");
    var note = card.querySelector(".legend-note");
    var empty = data[0].length === 0;
    note.textContent = empty ? "No samples in this time range yet." : units;
    var width = Math.max(plotEl.clientWidth, 280);
    if (plots[id] && plots[id].series.length === labels.length + 1) {
      plots[id].setData(data);
      plots[id].setSize({ width: width, height: 200 });
      return;
    }
    if (plots[id]) plots[id].destroy();
    var names = scales || labels.map(function () { return "y"; });
    var distinct = names.filter(function (n, i) { return names.indexOf(n) === i; });
    var opts = {
      width: width, height: 200,
      series: [{}].concat(labels.map(function (l, i) {
        return { label: l, scale: names[i], stroke: PALETTE[i % PALETTE.length], width: i === 0 ? 2 : 1, spanGaps: true };
      })),
      axes: [{}].concat(distinct.map(function (n, i) {
        return {
          scale: n, size: 60, side: i === 0 ? 3 : 1, grid: { show: i === 0 },
          values: function (u, splits) { return splits.map(tick); },
        };
      })),
      legend: { live: true },
      hooks: { draw: [drawMarkers] },
    };
    plots[id] = new uPlot(opts, data, plotEl);
  }

  function refresh() {
    var r0 = range(), from = r0[0], to = r0[1];
    fetchJSON("/ui/chart-markers?start=" + from + "&end=" + to).then(function (d) {
      markers = d.markers;
      listMarkers();
      Object.keys(plots).forEach(function (id) { plots[id].redraw(false, false); });
    }).catch(report);
    var step = Math.max(1, Math.floor((to - from) / 240));
    Promise.all([series("tx_count", from, to, step), series("tx_reverted", from, to, step)]).then(function (r) {
      draw("chart-throughput", "Throughput", ["tx/s"], align([r[0]], function (p) { return p.sum / step; }), "transactions per second, per " + step + " s bucket");
      var reverted = {};
      r[1].forEach(function (p) { reverted[p.t] = p.sum; });
      draw("chart-errors", "Error rate", ["reverted %"], align([r[0]], function (p) {
        return p.sum ? 100 * (reverted[p.t] || 0) / p.sum : 0;
      }), "share of transactions that reverted, %");
    }).catch(report);
    series("block_interval_s", from, to, step).then(function (pts) {
      draw("chart-confirmation", "Confirmation time", ["block interval s"], align([pts], function (p) { return p.avg; }), "seconds until a transaction is in a block (block interval)");
    }).catch(report);
    Promise.all([series("gas_used_ratio", from, to, step), series("base_fee_gwei", from, to, step)]).then(function (r) {
      draw("chart-gas", "Gas", ["gas used %", "base fee gwei"], align(r, function (p) { return p.avg; }).map(function (col, i) {
        return i === 1 ? col.map(function (v) { return v === null ? null : v * 100; }) : col;
      }), "block gas used (% of limit, left) and base fee (gwei, right)", ["%", "gwei"]);
    }).catch(report);
    fetchJSON("/api/v1/series").then(function (d) {
      var feeds = {};
      d.names.forEach(function (n) {
        var m = /^oracle\.([^.]+)\.(answer|node\.(.+))$/.exec(n);
        if (!m) return;
        (feeds[m[1]] = feeds[m[1]] || []).push(n);
      });
      var box = document.getElementById("oracle-charts");
      var symbols = Object.keys(feeds).sort();
      document.getElementById("oracle-empty").hidden = symbols.length > 0;
      symbols.forEach(function (sym) {
        var id = "chart-oracle-" + sym.replace(/[^A-Za-z0-9_-]/g, "_");
        if (!document.getElementById(id)) {
          var card = document.createElement("section");
          card.className = "card chart";
          card.id = id;
          card.innerHTML = "<h2></h2><div class='plot'></div><p class='legend-note'></p>";
          card.querySelector("h2").textContent = "Oracle " + sym + ": answer vs node submissions";
          box.appendChild(card);
        }
        var names = feeds[sym].sort(function (a, b) { return a.endsWith(".answer") ? -1 : b.endsWith(".answer") ? 1 : a < b ? -1 : 1; });
        Promise.all(names.map(function (n) { return series(n, from, to, step); })).then(function (r) {
          var labels = names.map(function (n) { return n.endsWith(".answer") ? "answer" : shortAddr(n.split(".node.")[1]); });
          draw(id, sym, labels, align(r, function (p) { return p.avg; }), "feed answer (thick) and each node's submitted value");
        }).catch(report);
      });
    }).catch(report);
  }

  function report(err) {
    var el = document.getElementById("chart-error");
    if (err && err.message !== "signed out") { el.textContent = "Could not load a series: " + err.message; el.hidden = false; }
  }

  document.getElementById("chart-span").addEventListener("change", function () { refresh(); });
  ["chart-from", "chart-to"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) el.addEventListener("change", function () { refresh(); });
  });
  window.addEventListener("resize", function () { refresh(); });
  refresh();
  setInterval(refresh, 10000);
})();
