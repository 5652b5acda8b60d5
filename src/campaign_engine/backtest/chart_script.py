"""The script the report page draws its charts with, from the data ``charts`` writes into the
page: plain JavaScript writing SVG, no library and nothing fetched, so the page stays one
file. Each ``<div class="chart" data-chart="KEY">`` gets the chart ``KEY`` of the data."""

CHART_SCRIPT = r"""
(function () {
  var W = 960, L = 72, R = 84, T = 16, B = 28;
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c];
    });
  }
  function f1(v) { return v.toFixed(1); }
  var FMT = {
    money: function (v) { return v.toLocaleString("en-US", {maximumFractionDigits: 0}); },
    pct: function (v) { return v.toFixed(1) + "%"; },
    price: function (v) {
      return v.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
    }
  };
  function frame(values, count, height) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < values.length; i++) {
      if (values[i] < lo) lo = values[i];
      if (values[i] > hi) hi = values[i];
    }
    var pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.01 || 1;
    var floor = lo >= 0 ? 0 : lo - pad;  // a chart of positive values starts at 0 or above
    var low = Math.max(lo - pad, floor), high = hi + pad;
    return {
      h: height, low: low, high: high,
      y: function (v) { return T + (height - T - B) * (high - v) / ((high - low) || 1); },
      x: function (i) { return L + (W - L - R) * (i + 0.5) / Math.max(count, 1); }
    };
  }
  function axes(fr, ticks, fmt) {
    var out = [], step = fr.high > fr.low ? (fr.high - fr.low) / 4 : 1;
    for (var k = 0; k < 5; k++) {
      var v = fr.low + step * k, y = fr.y(v);
      out.push('<line x1="' + L + '" x2="' + (W - R) + '" y1="' + f1(y) + '" y2="' + f1(y) +
        '" class="grid"/><text x="' + (L - 6) + '" y="' + f1(y + 4) +
        '" class="tick" text-anchor="end">' + fmt(v) + "</text>");
    }
    ticks.forEach(function (t) {
      out.push('<text x="' + f1(fr.x(t[0])) + '" y="' + (fr.h - 8) +
        '" class="tick" text-anchor="middle">' + esc(t[1]) + "</text>");
    });
    return out;
  }
  function level(fr, lv) {  // [price, color, label, first, last, dashed, tagged]
    var y = fr.y(lv[0]), x1 = fr.x(lv[3]), x2 = fr.x(lv[4]);
    var s = '<line x1="' + f1(x1) + '" x2="' + f1(x2) + '" y1="' + f1(y) + '" y2="' + f1(y) +
      '" stroke="' + lv[1] + '" stroke-width="1.3"' +
      (lv[5] ? ' stroke-dasharray="5 4"' : "") + "><title>" + esc(lv[2]) + "</title></line>";
    if (!lv[6]) return s;
    return s + '<text x="' + f1(x2 + 4) + '" y="' + f1(y + 4) + '" class="tag" fill="' +
      lv[1] + '">' + esc(lv[2]) + "</text>";
  }
  function mark(fr, m) {  // [candle index, price, shape, color, title]
    var x = fr.x(m[0]), y = fr.y(m[1]), s = 6, d;
    var tip = "M" + f1(x) + "," + f1(y) + " l" + -s + ",";
    if (m[2] === "up") d = tip + s * 1.6 + " h" + 2 * s + " Z";
    else if (m[2] === "down") d = tip + -s * 1.6 + " h" + 2 * s + " Z";
    else d = "M" + (x - s) + "," + (y - s) + " l" + 2 * s + "," + 2 * s + " M" + (x - s) + "," +
      (y + s) + " l" + 2 * s + "," + -2 * s;
    return '<path d="' + d + '" fill="' + m[3] + '" stroke="' + m[3] +
      '" stroke-width="2"><title>' + esc(m[4]) + "</title></path>";
  }
  function line(c) {
    var limits = c.lv || [], values = (c.v || []).slice();
    limits.forEach(function (lv) { values.push(lv[0]); });
    var fr = frame(values, c.n, c.h), path = [];
    for (var i = 0; i < c.n; i++)
      path.push((i ? "L" : "M") + f1(fr.x(c.x[i])) + "," + f1(fr.y(c.v[i])));
    var p = path.join(" "), base = fr.y(fr.low), last = c.n - 1;
    var out = axes(fr, c.ticks, FMT[c.fmt]);
    out.push('<path d="' + p + " L" + f1(fr.x(last)) + "," + f1(base) + " L" + f1(fr.x(0)) +
      "," + f1(base) + ' Z" fill="' + c.color + '" fill-opacity="0.12" stroke="none"/>');
    out.push('<path d="' + p + '" fill="none" stroke="' + c.color + '" stroke-width="1.6"/>');
    limits.forEach(function (lv) { out.push(level(fr, lv)); });
    return out;
  }
  function bars(c) {
    var b = c.b, values = [], i;
    for (i = 0; i < c.n; i++) values.push(b[4 * i + 2], b[4 * i + 1]);
    c.mk.forEach(function (m) { values.push(m[1]); });
    c.lv.forEach(function (lv) { values.push(lv[0]); });
    var fr = frame(values, c.n, c.h), out = axes(fr, c.ticks, FMT.price);
    var width = Math.max(1, (W - L - R) / c.n * 0.7);
    for (i = 0; i < c.n; i++) {
      var o = b[4 * i], h = b[4 * i + 1], l = b[4 * i + 2], cl = b[4 * i + 3], x = fr.x(i);
      var color = cl >= o ? "#16a34a" : "#dc2626";
      var top = fr.y(Math.max(o, cl)), bottom = fr.y(Math.min(o, cl));
      out.push('<line x1="' + f1(x) + '" x2="' + f1(x) + '" y1="' + f1(fr.y(h)) + '" y2="' +
        f1(fr.y(l)) + '" stroke="' + color + '" stroke-width="1"/><rect x="' +
        f1(x - width / 2) + '" y="' + f1(top) + '" width="' + f1(width) + '" height="' +
        f1(Math.max(bottom - top, 0.8)) + '" fill="' + color + '" fill-opacity="0.75"/>');
    }
    c.lv.forEach(function (lv) { out.push(level(fr, lv)); });
    c.mk.forEach(function (m) { out.push(mark(fr, m)); });
    return out;
  }
  function draw(c) {
    var parts = c.n ? (c.b ? bars(c) : line(c))
      : ['<text x="20" y="30">' + (c.fmt ? "no data" : "no bars") + "</text>"];
    return '<svg viewBox="0 0 ' + W + " " + c.h + '" role="img" aria-label="' + esc(c.title) +
      '"><title>' + esc(c.title) + "</title>" + parts.join("") + "</svg>";
  }
  var holders = document.querySelectorAll("div.chart[data-chart]");
  for (var n = 0; n < holders.length; n++) {
    var chart = data[holders[n].getAttribute("data-chart")];
    if (chart) holders[n].innerHTML = draw(chart);
  }
})();
"""
