// The book's history in SVG (GET /portfolio/history): equity, realized and marked, over market
// time; heat against its limit with the warning and critical levels; realized P&L by market
// day. Drawn at the width it is shown at, like the campaign's chart.

import { esc, fmtMoney, fmtPct, fmtSignedMoney, num } from "./format.js";

const PAD = { left: 8, right: 74, top: 10, bottom: 20 };
const day = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
const dayOfYear = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
const YEAR_MS = 300 * 86400000;
const axisMoney = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

// With the year when the axis spans most of one (or runs across years).
function dateLabel(ms, span = 0) {
  return (span > YEAR_MS ? dayOfYear : day).format(new Date(ms));
}

// A line through (x, y) points as an SVG path, stepping: a figure holds until the next change.
function steps(points) {
  return points.map(([x, y], i) => (i === 0 ? `M${x},${y}` : `H${x}V${y}`)).join("");
}

function timeAxis(t0, t1, x, height, W) {
  const ticks = [];
  const count = W < 500 ? 2 : 4;
  for (let k = 0; k <= count; k++) {
    const t = t0 + ((t1 - t0) * k) / count;
    const anchor = k === 0 ? "start" : k === count ? "end" : "middle";
    ticks.push(`<text class="axis" text-anchor="${anchor}" x="${x(t)}" y="${height - 5}">${dateLabel(t, t1 - t0)}</text>`);
  }
  return ticks.join("");
}

export function renderEquity(history, width) {
  const W = Math.round(Math.max(280, Math.min(900, width || 600)));
  const H = 170;
  const points = history ? history.points : [];
  if (points.length < 1) return `<p class="muted chart-empty">No change of the book yet.</p>`;
  const times = points.map((p) => Date.parse(p.at));
  const t0 = times[0];
  const t1 = Math.max(times[times.length - 1], t0 + 1);
  const values = points.flatMap((p) => [num(p.equity), num(p.marked_equity)]);
  let lo = Math.min(...values, num(history.starting_equity));
  let hi = Math.max(...values, num(history.starting_equity));
  const span = hi - lo || Math.abs(hi) * 0.001 || 1;
  lo -= span * 0.1;
  hi += span * 0.1;
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + ((hi - v) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const realized = steps(points.map((p, i) => [x(times[i]), y(num(p.equity))]));
  const marked = steps(points.map((p, i) => [x(times[i]), y(num(p.marked_equity))]));
  const start = y(num(history.starting_equity));
  const last = points[points.length - 1];
  return `<svg class="book-chart" id="equity-chart" viewBox="0 0 ${W} ${H}" role="img"
      aria-label="equity over time: realized ${esc(fmtMoney(last.equity))}, marked ${esc(fmtMoney(last.marked_equity))}">
    <line class="level" x1="${PAD.left}" x2="${W - PAD.right}" y1="${start}" y2="${start}"/>
    <text class="axis" x="${W - PAD.right + 6}" y="${start + 4}">${axisMoney.format(num(history.starting_equity))}</text>
    <path class="equity-marked" d="${marked}"/>
    <path class="equity-realized" d="${realized}"/>
    <text class="axis" x="${W - PAD.right + 6}" y="${y(num(last.equity)) + 4}">${axisMoney.format(num(last.equity))}</text>
    ${timeAxis(t0, t1, x, H, W)}
  </svg>
  <ul class="legend"><li><span class="key equity-realized"></span>equity (realized)</li>
    <li><span class="key equity-marked"></span>marked (open shares at the prices taken)</li></ul>`;
}

export function renderHeat(history, width) {
  const W = Math.round(Math.max(280, Math.min(900, width || 600)));
  const H = 130;
  const points = history ? history.points : [];
  if (points.length < 1) return "";
  const times = points.map((p) => Date.parse(p.at));
  const t0 = times[0];
  const t1 = Math.max(times[times.length - 1], t0 + 1);
  // The axis runs to twice the limit: heat past it is drawn at the top (what matters is that
  // it is past), so that the limit and its levels stay readable.
  const limit = num(history.max_heat_pct);
  const hi = limit * 2;
  const heats = points.map((p) => (p.heat_pct === null ? hi : Math.min(hi, num(p.heat_pct))));
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + ((hi - v) / hi) * (H - PAD.top - PAD.bottom);
  const levels = [
    ["limit", limit, 4], ["critical", num(history.heat_critical_pct), 10], ["warning", num(history.heat_warning_pct), 4],
  ].map(([name, v, dy]) => `<line class="heat-${name}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}"/>
      ${name === "critical" ? "" : `<text class="axis" x="${W - PAD.right + 6}" y="${y(v) + dy}">${fmtPct(v)}</text>`}`).join("");
  const top = `<text class="axis" x="${W - PAD.right + 6}" y="${y(hi) + 8}">≥ ${fmtPct(hi)}</text>`;
  const line = steps(points.map((p, i) => [x(times[i]), y(heats[i])]));
  const last = points[points.length - 1];
  return `<svg class="book-chart" id="heat-chart" viewBox="0 0 ${W} ${H}" role="img"
      aria-label="heat over time, now ${esc(fmtPct(last.heat_pct))} of ${esc(fmtPct(limit))}">
    ${levels}${top}<path class="heat-line" d="${line}"/>${timeAxis(t0, t1, x, H, W)}
  </svg>`;
}

export function renderDays(history, width) {
  const days = history ? history.days.slice(-60) : [];
  if (!days.length) return `<p class="muted chart-empty">No exit yet.</p>`;
  const W = Math.round(Math.max(280, Math.min(900, width || 600)));
  const H = 130;
  const values = days.map((d) => num(d.realized_pnl));
  const top = Math.max(...values.map(Math.abs)) || 1;
  const zero = PAD.top + (H - PAD.top - PAD.bottom) / 2;
  const scale = (H - PAD.top - PAD.bottom) / 2 / top;
  const step = Math.min(48, (W - PAD.left - PAD.right) / days.length);
  const bars = days.map((d, i) => {
    const v = values[i];
    const h = Math.max(1, Math.abs(v) * scale);
    const cls = v >= 0 ? "gain" : "loss";
    return `<rect class="day ${cls}" data-day="${esc(d.day)}" x="${PAD.left + i * step + step * 0.15}" y="${v >= 0 ? zero - h : zero}"
      width="${Math.max(1, step * 0.7)}" height="${h}"><title>${esc(d.day)}: ${esc(fmtSignedMoney(d.realized_pnl))}</title></rect>`;
  }).join("");
  // Each bar's day under it when they fit, else the first and the last.
  const times = days.map((d) => Date.parse(`${d.day}T00:00:00Z`));
  const span = times[times.length - 1] - times[0];
  const every = step >= 44 ? 1 : days.length - 1 || 1;
  const labels = times
    .map((t, i) => {
      if (i % every !== 0 && i !== days.length - 1) return "";
      const [anchor, at] = every === 1 ? ["middle", (i + 0.5) * step] : i === 0 ? ["start", 0] : ["end", (i + 1) * step];
      return `<text class="axis" text-anchor="${anchor}" x="${PAD.left + at}" y="${H - 5}">${dateLabel(t, span)}</text>`;
    })
    .join("");
  return `<svg class="book-chart" id="days-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="realized P&amp;L by market day">
    <line class="level" x1="${PAD.left}" x2="${W - PAD.right}" y1="${zero}" y2="${zero}"/>${bars}
    <text class="axis" x="${W - PAD.right + 6}" y="${zero - top * scale + 4}">${esc(fmtSignedMoney(top))}</text>
    ${labels}
  </svg>`;
}

export function bookHistoryPanel(history, width) {
  const half = width > 900 ? (width - 24) / 2 : width;
  return `<div class="book-history">
    <div><h3>Equity and heat</h3>${renderEquity(history, half)}${renderHeat(history, half)}</div>
    <div><h3>Realized P&amp;L by market day</h3>${renderDays(history, half)}</div>
  </div>`;
}
