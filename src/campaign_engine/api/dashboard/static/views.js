// What the page shows, as HTML strings from the state (app.js owns the state and the events).

import { renderChart } from "./chart.js";
import {
  esc, fmtMoney, fmtPct, fmtPrice, fmtR, fmtShares, fmtSignedMoney, fmtTime, num, pnlClass,
} from "./format.js";

export const STATUSES = ["ACTIVE", "MARKUP", "QUARANTINED", "COMPLETED", "INVALIDATED"];
const PATTERNS = [["SPRING", "Spring"], ["SOS", "SOS"], ["LPS", "LPS"]];

export function badge(status) {
  return `<span class="badge status-${esc(status).toLowerCase()}" data-status="${esc(status)}">${esc(status)}</span>`;
}

function pnlCell(value) {
  return `<td class="num ${pnlClass(value)}">${fmtSignedMoney(value)}</td>`;
}

// A meter's fill and marks are placed by placeMeters once in the page: the page's policy
// refuses style attributes written as HTML.
function meter(value, limit, marks, level, label) {
  const v = Math.max(0, num(value) || 0);
  const max = num(limit) || 1;
  const width = Math.min(100, (v / max) * 100);
  const ticks = marks
    .map((m) => `<span class="tick" data-left="${Math.min(100, (num(m) / max) * 100)}"></span>`)
    .join("");
  return `<div class="meter level-${esc(level).toLowerCase()}" role="meter" aria-label="${esc(label)}"
    aria-valuemin="0" aria-valuemax="${max}" aria-valuenow="${v}">
    <span class="fill" data-width="${width}"></span>${ticks}</div>`;
}

// Sizes from the meters' data attributes, set through the DOM (which the policy allows).
export function placeMeters(root) {
  for (const fill of root.querySelectorAll(".meter .fill[data-width]")) {
    fill.style.width = `${fill.dataset.width}%`;
  }
  for (const tick of root.querySelectorAll(".meter .tick[data-left]")) {
    tick.style.left = `${tick.dataset.left}%`;
  }
}

// --- the overview: portfolio and campaigns -------------------------------------------------

// The trading state (SPEC section 11): ACTIVE takes entries, REDUCING and HALTED refuse them.
function tradingState(p) {
  const state = p.trading_state || "ACTIVE";
  const why = p.trading_state_reason ? ` title="${esc(p.trading_state_reason)}"` : "";
  return `<span class="alert trading trading-${esc(state).toLowerCase()}" id="trading-state"${why}
    aria-label="trading state">${esc(state)}</span>`;
}

export function portfolioPanel(p, policy) {
  if (!p) return `<section class="panel portfolio"><h2>Portfolio</h2><p class="muted">loading</p></section>`;
  const warning = policy ? [policy.heat_warning_pct, policy.heat_critical_pct] : [];
  const byCampaign = p.open_risk_by_campaign.length
    ? p.open_risk_by_campaign
        .map((c) => `<li><a href="#/campaigns/${encodeURIComponent(c.campaign_id)}">${esc(c.campaign_id)}</a>
          ${meter(c.risk_pct, policy ? policy.campaign_max_risk_pct : 5, [], "normal", `${c.campaign_id} committed risk`)}
          <span class="num">${fmtPct(c.risk_pct)}</span></li>`)
        .join("")
    : `<li class="muted">no open risk</li>`;
  const byGroup = p.open_risk_by_group.length
    ? p.open_risk_by_group
        .map((g) => {
          const level = num(g.risk_pct) >= num(g.limit_pct) ? "exceeded" : "normal";
          return `<li><span title="${esc(g.symbols.join(", "))}">${esc(g.correlation_group)}</span>
            ${meter(g.risk_pct, g.limit_pct, [], level, `${g.correlation_group} risk`)}
            <span class="num">${fmtPct(g.risk_pct)} <span class="muted">/ ${fmtPct(g.limit_pct)}</span></span></li>`;
        })
        .join("")
    : `<li class="muted">no open risk</li>`;
  return `<section class="panel portfolio" id="portfolio">
    <h2>Portfolio</h2>
    <div class="figures">
      <div><span class="label">Equity</span><span class="value num" id="equity">${fmtMoney(p.equity)}</span></div>
      <div><span class="label">Realized P&amp;L</span><span class="value num ${pnlClass(p.realized_pnl)}" id="portfolio-realized">${fmtSignedMoney(p.realized_pnl)}</span></div>
      <div title="open shares at the newest prices"><span class="label">Unrealized P&amp;L</span><span class="value num ${pnlClass(p.unrealized_pnl)}" id="portfolio-unrealized">${fmtSignedMoney(p.unrealized_pnl)}</span></div>
      <div title="equity plus unrealized P&amp;L"><span class="label">Marked equity</span><span class="value num" id="marked-equity">${fmtMoney(p.marked_equity)}</span></div>
      <div><span class="label">Open risk</span><span class="value num" id="portfolio-open-risk">${fmtMoney(p.open_risk)}</span></div>
      <div title="open risk plus the risk reserved for entries not filled yet: what heat counts"><span class="label">Committed risk</span><span class="value num" id="portfolio-committed-risk">${fmtMoney(p.total_risk)}</span></div>
    </div>
    <div class="heat">
      <div class="heat-head"><span class="label">Heat</span>
        <span class="num"><strong id="heat">${fmtPct(p.heat_pct)}</strong> <span class="muted">of ${fmtPct(p.max_heat_pct)}</span></span>
        <span class="alert alert-${esc(p.alert_level).toLowerCase()}" id="alert-level">${esc(p.alert_level)}</span>
        ${tradingState(p)}</div>
      ${meter(p.heat_pct, p.max_heat_pct, warning, p.alert_level, "portfolio heat")}
      ${p.equity_alert ? `<p class="equity-alert" id="equity-alert" role="alert">${esc(p.equity_alert)}</p>` : ""}
    </div>
    <div class="risk-lists">
      <div><h3>Committed risk by campaign</h3><ul class="bars">${byCampaign}</ul></div>
      <div><h3>Committed risk by correlation group</h3><ul class="bars">${byGroup}</ul></div>
    </div>
  </section>`;
}

export function filtersForm(filter) {
  const options = ["", ...STATUSES]
    .map((s) => `<option value="${s}" ${s === filter.status ? "selected" : ""}>${s || "all statuses"}</option>`)
    .join("");
  return `<form class="filters" id="filters">
    <label><span class="sr">Status</span><select id="filter-status">${options}</select></label>
    <label><span class="sr">Symbol starts with</span><input id="filter-symbol" placeholder="symbol" title="campaigns whose symbol starts with this" value="${esc(filter.symbol)}" autocomplete="off" autocapitalize="characters" spellcheck="false" size="8"></label>
  </form>`;
}

// --- one campaign --------------------------------------------------------------------------

// The campaign's metrics, with P&L and R at its mark where that is newer than the last price
// it took (a price that crosses no level changes nothing else).
export function marked(c) {
  const m = { ...c.metrics, last_price: c.last_price, as_of: c.last_price_at };
  const k = c.mark;
  const newer = k && k.version >= c.version && k.as_of
    && (!c.last_price_at || Date.parse(k.as_of) > Date.parse(c.last_price_at));
  if (!newer) return m;
  return { ...m, last_price: k.last_price, as_of: k.as_of, unrealized_pnl: k.unrealized_pnl, total_pnl: k.total_pnl, r_multiple: k.r_multiple };
}

function bmad(campaign, allocations, policy) {
  const plans = allocations ? allocations.allocations : [];
  return PATTERNS.map(([pattern, name]) => {
    const approved = plans.find((p) => p.pattern === pattern && p.approved);
    const rejected = plans.filter((p) => p.pattern === pattern && !p.approved).pop();
    const weight = approved ? approved.weight : policy ? policy.bmad_weights[pattern] : null;
    let state = "not taken";
    let risk = "–";
    if (approved) {
      state = "taken";
      risk = fmtPct(approved.actual_risk_pct);
    } else if (rejected) {
      state = "rejected";
    }
    const title = rejected && !approved ? ` title="${esc(rejected.rejection_reason)}"` : "";
    return `<div class="bmad-part ${state.replace(" ", "-")}"${title} data-pattern="${pattern}">
      <span class="label">${name}</span>
      <span class="value num">${risk}</span>
      <span class="muted">weight ${weight === null || weight === undefined ? "–" : `${Math.round(num(weight) * 100)}%`} · ${state}</span>
    </div>`;
  }).join("");
}

function positionsTable(positions) {
  if (!positions.length) return `<p class="muted">No positions yet.</p>`;
  const rows = positions
    .map((p) => `<tr class="position ${p.status.toLowerCase()}">
      <td>${esc(p.pattern)}</td>
      <td><span class="pos-status ${p.status.toLowerCase()}">${esc(p.status)}</span></td>
      <td class="num">${fmtShares(p.shares)}</td>
      <td class="num">${fmtShares(p.open_shares)}</td>
      <td class="num">${fmtPrice(p.entry_price)}</td>
      <td class="num">${fmtPrice(p.stop)}</td>
      <td class="num targets">${p.targets.map((t, k) => `<span class="${k < p.targets_hit ? "hit" : ""}">${fmtPrice(t)}</span>`).join(" ")}</td>
      <td class="num">${fmtMoney(p.open_risk)}</td>
      ${pnlCell(p.realized_pnl)}
      ${pnlCell(p.unrealized_pnl)}
    </tr>`)
    .join("");
  return `<div class="scroll"><table class="positions">
    <thead><tr><th>Pattern</th><th>Status</th><th class="num">Shares</th><th class="num">Open</th><th class="num">Entry</th>
      <th class="num">Stop</th><th class="num">Targets</th><th class="num">Risk</th><th class="num">Realized</th><th class="num">Unrealized</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

// Any event, of any kind: its type, its kind and its scalar fields, so kinds added later show.
function describe(data) {
  return Object.entries(data || {})
    .filter(([key, value]) => key !== "kind" && value !== null && typeof value !== "object")
    .map(([key, value]) => `<span class="field"><span class="muted">${esc(key.replaceAll("_", " "))}</span> ${esc(value)}</span>`)
    .join(" ");
}

function timeline(events) {
  if (!events.length) return `<p class="muted">No events yet.</p>`;
  return `<ol class="timeline" id="timeline">${[...events]
    .reverse()
    .map((e) => `<li data-event-id="${esc(e.event_id)}" data-kind="${esc(e.data && e.data.kind)}">
      <time datetime="${esc(e.occurred_at)}">${fmtTime(e.occurred_at)}</time>
      <span class="kind">${esc((e.data && e.data.kind) || e.event_type)}</span>
      <span class="type muted">${esc(e.event_type)} · v${esc(e.version)}</span>
      <div class="fields">${describe(e.data)}</div>
    </li>`)
    .join("")}</ol>`;
}

export function campaignPage(view, policy, width) {
  const c = view.campaign;
  if (view.missing) {
    return `<p><a href="#/">← all campaigns</a></p><section class="panel"><h2>${esc(view.id)}</h2><p class="muted">There is no campaign ${esc(view.id)}.</p></section>`;
  }
  if (!c) return `<p><a href="#/">← all campaigns</a></p><section class="panel"><p class="muted">loading ${esc(view.id)}</p></section>`;
  const m = marked(c);
  const budget = policy ? policy.campaign_max_risk_pct : "5";
  const canInvalidate = c.status === "ACTIVE" || c.status === "MARKUP" || c.status === "QUARANTINED";
  return `<p><a href="#/">← all campaigns</a></p>
  <section class="panel campaign-head" data-campaign-id="${esc(c.campaign_id)}">
    <div class="title">
      <h2 id="campaign-title">${esc(c.campaign_id)}</h2>
      ${badge(c.status)} <span class="phase-tag">${esc(c.phase)}</span> <span class="muted">${esc(c.symbol)} · ${esc(c.timeframe)} · v${esc(c.version)}</span>
      <button id="invalidate" class="danger" type="button" ${canInvalidate ? "" : "disabled"}
        title="${canInvalidate ? "Exit every position and close the campaign" : "Only an ACTIVE, MARKUP or QUARANTINED campaign can be invalidated"}">Invalidate</button>
    </div>
    ${c.invalidation_reason ? `<p class="reason">Invalidated: ${esc(c.invalidation_reason)}</p>` : ""}
    ${c.quarantine_reason ? `<p class="reason" id="quarantine-reason">Quarantined: ${esc(c.quarantine_reason)}</p>` : ""}
    <div class="figures">
      <div><span class="label">Total P&amp;L</span><span class="value num ${pnlClass(m.total_pnl)}" id="total-pnl">${fmtSignedMoney(m.total_pnl)}</span></div>
      <div><span class="label">Realized</span><span class="value num ${pnlClass(m.realized_pnl)}">${fmtSignedMoney(m.realized_pnl)}</span></div>
      <div><span class="label">Unrealized</span><span class="value num ${pnlClass(m.unrealized_pnl)}">${fmtSignedMoney(m.unrealized_pnl)}</span></div>
      <div><span class="label">R</span><span class="value num ${pnlClass(m.r_multiple)}">${fmtR(m.r_multiple)}</span></div>
      <div><span class="label">Avg entry</span><span class="value num" id="avg-entry">${fmtPrice(m.weighted_avg_entry)}</span></div>
      <div><span class="label">Open shares</span><span class="value num">${fmtShares(m.total_shares)}</span></div>
      <div><span class="label">Total risk</span><span class="value num">${fmtMoney(m.total_risk)}</span></div>
      <div><span class="label">Last price</span><span class="value num" id="last-price"${m.as_of ? ` title="${esc(m.as_of)}"` : ""}>${fmtPrice(m.last_price)}</span></div>
    </div>
    <div class="budget">
      <div class="heat-head"><span class="label">Open risk</span>
        <span class="num"><strong id="current-risk">${fmtPct(c.current_risk)}</strong> <span class="muted">of the ${fmtPct(budget)} budget · allocated ${fmtPct(c.total_allocation)}</span></span>
        <span class="label" title="open plus reserved for entries not filled yet">Committed risk</span>
        <span class="num"><strong id="committed-risk">${fmtPct(c.committed_risk_pct)}</strong></span></div>
      ${meter(c.current_risk, budget, [], num(c.current_risk) >= num(budget) ? "exceeded" : "normal", "campaign open risk against its budget")}
    </div>
    <h3>BMAD allocation</h3>
    <div class="bmad">${bmad(c, view.allocations, policy)}</div>
  </section>
  <section class="panel"><h3>Prices</h3><div id="chart">${renderChart(view.bars, c, view.events, width)}</div></section>
  <section class="panel"><h3>Positions <span class="muted">${m.open_positions_count} open · ${m.closed_positions_count} closed</span></h3>${positionsTable(c.positions)}</section>
  <section class="panel"><h3>Events</h3>${timeline(view.events)}</section>`;
}
