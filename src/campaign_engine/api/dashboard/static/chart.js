// A campaign's price chart in SVG: its symbol's bars, its entries and exits where they
// happened (from its events), the stops and targets of its positions, and the range levels.

import { esc, fmtPrice, fmtShortDateTime, num } from "./format.js";

const axisPrice = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const PAD = { left: 8, right: 64, top: 12, bottom: 22 };

function indexAt(times, t) {
  // The last bar at or before t (the first bar when t is before them all).
  let lo = 0;
  let hi = times.length - 1;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Entries and exits from the events: read generically, so a kind without a price is skipped.
export function markersOf(events) {
  const marks = [];
  for (const e of events) {
    const d = e.data || {};
    if (d.price === undefined || d.price === null) continue;
    const at = Date.parse(e.occurred_at);
    if (d.kind === "PositionOpened" || d.kind === "EntryFilled") {
      marks.push({ kind: "entry", at, price: num(d.price), label: `${d.pattern ?? ""} in` });
    } else if (d.kind === "ExitExecuted") {
      const purpose = String(d.purpose ?? "");
      const kind = purpose.startsWith("TARGET") ? "target" : purpose === "STOP" ? "stop" : "exit";
      marks.push({ kind: `exit-${kind}`, at, price: num(d.price), label: `${d.pattern ?? ""} ${purpose}` });
    }
  }
  return marks;
}

// Drawn at the width it is shown at, so that its text keeps its size on a phone.
export function renderChart(bars, campaign, events, width) {
  const W = Math.round(Math.max(320, Math.min(1240, width || 960)));
  const H = W < 600 ? 240 : 300;
  if (!bars.length) {
    return `<div class="chart-empty muted">No prices recorded for ${esc(campaign.symbol)} yet.</div>`;
  }
  const times = bars.map((b) => Date.parse(b.as_of));
  const marks = markersOf(events);
  const live = (campaign.positions || []).filter((p) => p.status !== "CLOSED" || num(p.shares) > 0);
  const open = (campaign.positions || []).filter((p) => p.status === "OPEN");
  let lo = Infinity;
  let hi = -Infinity;
  for (const b of bars) {
    lo = Math.min(lo, num(b.low));
    hi = Math.max(hi, num(b.high));
  }
  for (const m of marks) {
    lo = Math.min(lo, m.price);
    hi = Math.max(hi, m.price);
  }
  for (const p of open) {
    lo = Math.min(lo, num(p.stop));
    for (const t of p.targets) hi = Math.max(hi, num(t));
  }
  const span = hi - lo || Math.abs(hi) * 0.01 || 1;
  lo -= span * 0.05;
  hi += span * 0.05;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / bars.length;
  const x = (i) => PAD.left + step * (i + 0.5);
  const y = (v) => PAD.top + ((hi - v) / (hi - lo)) * plotH;
  const parts = [];

  // Grid and price axis.
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}"/>`);
    parts.push(`<text class="axis" x="${W - PAD.right + 6}" y="${y(v) + 4}">${axisPrice.format(v)}</text>`);
  }
  // The range's levels, where they fall inside the chart.
  for (const [name, value] of [["creek", campaign.creek], ["ice", campaign.ice], ["jump", campaign.jump]]) {
    const v = num(value);
    if (v === null || v < lo || v > hi) continue;
    parts.push(`<line class="level" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}"/>`);
    parts.push(`<text class="level-label" x="${PAD.left + 4}" y="${y(v) - 3}">${name} ${fmtPrice(v)}</text>`);
  }
  // Bars: a wick from low to high and a body from open to close.
  const body = Math.max(1, Math.min(8, step * 0.6));
  bars.forEach((b, i) => {
    const o = num(b.open);
    const c = num(b.close);
    const dir = c >= o ? "up" : "down";
    parts.push(`<line class="wick ${dir}" x1="${x(i)}" x2="${x(i)}" y1="${y(num(b.high))}" y2="${y(num(b.low))}"/>`);
    const top = y(Math.max(o, c));
    const height = Math.max(1, Math.abs(y(o) - y(c)));
    parts.push(`<rect class="body ${dir}" x="${x(i) - body / 2}" y="${top}" width="${body}" height="${height}"/>`);
  });
  // Stops and targets of each position, from its entry to its close (or the last bar).
  for (const p of live) {
    if (!p.opened_at) continue;
    const from = x(indexAt(times, Date.parse(p.opened_at)));
    const to = p.closed_at ? x(indexAt(times, Date.parse(p.closed_at))) : W - PAD.right;
    const stop = num(p.stop);
    parts.push(`<line class="stop-line" x1="${from}" x2="${to}" y1="${y(stop)}" y2="${y(stop)}"><title>${esc(p.pattern)} stop ${fmtPrice(stop)}</title></line>`);
    if (p.status === "OPEN") {
      p.targets.forEach((t, k) => {
        if (k < p.targets_hit) return;
        const v = num(t);
        parts.push(`<line class="target-line" x1="${from}" x2="${to}" y1="${y(v)}" y2="${y(v)}"><title>${esc(p.pattern)} target ${k + 1} ${fmtPrice(v)}</title></line>`);
      });
    }
  }
  // Entries (up) and exits (down) where they happened.
  for (const m of marks) {
    const cx = x(indexAt(times, m.at));
    const cy = y(m.price);
    const shape = m.kind === "entry"
      ? `${cx},${cy + 2} ${cx - 6},${cy + 12} ${cx + 6},${cy + 12}`
      : `${cx},${cy - 2} ${cx - 6},${cy - 12} ${cx + 6},${cy - 12}`;
    parts.push(`<polygon class="mark ${m.kind}" points="${shape}"><title>${esc(m.label)} at ${fmtPrice(m.price)}</title></polygon>`);
  }
  // The time axis in market time, with dates: the first and last bars and some between.
  const ticks = W < 600 ? [0, bars.length - 1] : [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * (bars.length - 1)));
  [...new Set(ticks)].forEach((i, k, all) => {
    const anchor = k === 0 ? "start" : k === all.length - 1 ? "end" : "middle";
    const at = k === 0 ? PAD.left : k === all.length - 1 ? W - PAD.right : x(i);
    parts.push(`<text class="axis time-tick" text-anchor="${anchor}" x="${at}" y="${H - 6}">${fmtShortDateTime(bars[i].as_of)}</text>`);
  });
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(campaign.symbol)} prices with entries, exits, stops and targets">${parts.join("")}</svg>
    <ul class="legend">
      <li><span class="key entry"></span>entry</li>
      <li><span class="key exit-target"></span>exit at a target</li>
      <li><span class="key exit-stop"></span>exit at a stop</li>
      <li><span class="key exit-exit"></span>other exit</li>
      <li><span class="key stop-line"></span>stop</li>
      <li><span class="key target-line"></span>target</li>
    </ul>`;
}
