// The overview's list of campaigns: one page of the API's listing at a time (filtered, sorted
// and paged on the server, so every campaign of any book is reachable), kept current in place
// by what the live stream pushes. A pushed change never moves a row: the order is the
// server's, read again when the trader pages, sorts or filters (or follows "new campaigns").

import { badge } from "./views.js";
import { esc, fmtPct, fmtPrice, fmtR, fmtShortDateTime, fmtSignedMoney, pnlClass } from "./format.js";

export const PAGE_SIZE = 50;
// The API's rule for a symbol (domain.types.SYMBOL_QUERY_PATTERN); a prefix of one is one.
const SYMBOL_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._/:-]*$/;
// Each column's sort key and the direction it starts in (largest or newest first).
const COLUMNS = [
  { key: "created", label: "Campaign", first: "-", title: "by when it was created (market time)" },
  { key: "symbol", label: "Symbol", cls: "sym", first: "" },
  { label: "Status", cls: "st" },
  { label: "Phase", cls: "phase" },
  { label: "Last", cls: "num last", title: "the newest price: the campaign's own or the newest accepted for its symbol" },
  { key: "pnl", label: "P&L", cls: "num pnl", first: "-", title: "realized plus unrealized at the last price" },
  { label: "R", cls: "num r", title: "total P&L over the risk taken at entry" },
  { key: "risk", label: "Open risk", cls: "num risk", first: "-", title: "at current stops, % of equity" },
  { key: "committed", label: "Committed", cls: "num committed", first: "-", title: "open plus reserved for unfilled entries, % of equity" },
  { label: "Allocated", cls: "num alloc" },
  { key: "updated", label: "Updated", cls: "time", first: "-" },
];

export class CampaignList {
  constructor() {
    this.filter = { status: "", symbol: "" };
    this.sort = "-created";
    this.offset = 0;
    this.rows = []; // campaigns of the page, in the server's order
    this.total = 0;
    this.loaded = false;
    this.created = 0; // campaigns created since the page was read, not shown on it
    this.fresh = new Set(); // created, their campaign not pushed yet
    this.problem = "";
    this.generation = 0; // a newer read wins over an older one still in flight
  }

  query() {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(this.offset), sort: this.sort });
    if (this.filter.status) query.set("status", this.filter.status);
    const prefix = this.filter.symbol.trim();
    if (prefix) query.set("symbol_prefix", prefix);
    return query;
  }

  // Reads the page; false when a newer read started meanwhile (its answer is the one kept).
  async load(get) {
    const generation = ++this.generation;
    const prefix = this.filter.symbol.trim();
    if (prefix && !SYMBOL_PREFIX.test(prefix)) {
      this.rows = [];
      this.total = 0;
      this.loaded = true;
      this.problem = `"${prefix}" cannot start a symbol (letters, digits, then . _ / : -)`;
      return true;
    }
    const page = await get(`/campaigns?${this.query()}`);
    if (generation !== this.generation) return false;
    this.rows = page.data;
    this.total = page.pagination.total_count;
    this.loaded = true;
    this.created = 0;
    this.fresh.clear();
    this.problem = "";
    return true;
  }

  find(id) {
    return this.rows.find((c) => c.campaign_id === id);
  }

  // A campaign as pushed: its row updated where it stands. A new one goes where the server
  // would list it when that is knowable here (the first page, newest first: the top);
  // otherwise the page says how many came, for the trader to read it again.
  applyCampaign(campaign) {
    const index = this.rows.findIndex((c) => c.campaign_id === campaign.campaign_id);
    if (index >= 0) {
      if (campaign.version < this.rows[index].version) return false;
      const known = this.rows[index];
      const mark = newerMark(known.mark, campaign.mark, campaign.version) || campaign.mark || known.mark;
      this.rows[index] = { ...known, ...campaign, mark };
      return true;
    }
    if (!this.fresh.delete(campaign.campaign_id) || !this.matches(campaign)) return false;
    const at = this.sort === "-created" && this.offset === 0 ? this.newestFirstPlace(campaign) : -1;
    if (at < 0) {
      this.created += 1;
      return true;
    }
    this.rows.splice(at, 0, campaign);
    this.rows.length = Math.min(this.rows.length, PAGE_SIZE);
    this.total += 1;
    return true;
  }

  // Where a campaign falls among the rows, newest first (the server's order), or -1 past a
  // full page.
  newestFirstPlace(campaign) {
    const after = (row) => row.created_at < campaign.created_at
      || (row.created_at === campaign.created_at && row.campaign_id > campaign.campaign_id);
    const at = this.rows.findIndex(after);
    if (at >= 0) return at;
    return this.rows.length < PAGE_SIZE ? this.rows.length : -1;
  }

  matches(campaign) {
    const prefix = this.filter.symbol.trim().toUpperCase();
    return (!this.filter.status || campaign.status === this.filter.status)
      && (!prefix || campaign.symbol.startsWith(prefix));
  }

  // A campaign was created (its event comes before the campaign itself).
  noteCreated(campaignId) {
    this.fresh.add(campaignId);
  }

  applyMark(mark) {
    const row = this.find(mark.campaign_id);
    if (!row) return false;
    const newer = newerMark(row.mark, mark, row.version);
    if (!newer) return false;
    row.mark = newer;
    return true;
  }

  sortBy(key) {
    const column = COLUMNS.find((c) => c.key === key);
    const [current, descending] = [this.sort.replace(/^-/, ""), this.sort.startsWith("-")];
    this.sort = current === key ? (descending ? key : `-${key}`) : `${column.first}${key}`;
    this.offset = 0;
  }

  html() {
    if (!this.loaded) return `<p class="muted">loading</p>`;
    const filtered = this.filter.status || this.filter.symbol.trim();
    const rows = this.rows.map(row).join("")
      || `<tr><td colspan="${COLUMNS.length}" class="muted empty">${esc(this.problem) || `No campaigns${filtered ? " match" : " yet"}.`}</td></tr>`;
    const [key, descending] = [this.sort.replace(/^-/, ""), this.sort.startsWith("-")];
    const heads = COLUMNS.map((c) => {
      const cls = c.cls ? ` class="${c.cls}"` : "";
      const title = c.title ? ` title="${esc(c.title)}"` : "";
      if (!c.key) return `<th${cls}${title}>${esc(c.label)}</th>`;
      const sorted = c.key === key;
      const aria = sorted ? ` aria-sort="${descending ? "descending" : "ascending"}"` : "";
      const arrow = sorted ? (descending ? " ▼" : " ▲") : "";
      return `<th${cls}${title}${aria}><button type="button" class="sort" data-sort="${c.key}">${esc(c.label)}${arrow}</button></th>`;
    }).join("");
    return `${this.notice()}<div class="table-wrap"><table class="list" id="campaign-list">
      <thead><tr>${heads}</tr></thead><tbody>${rows}</tbody></table></div>${this.pager()}`;
  }

  notice() {
    if (!this.created) return "";
    const some = this.created === 1 ? "1 new campaign" : `${this.created} new campaigns`;
    return `<p class="notice"><button type="button" id="list-reload" class="link">${some} since this page was read: show</button></p>`;
  }

  pager() {
    const first = this.total ? this.offset + 1 : 0;
    const last = this.offset + this.rows.length;
    return `<div class="pager"><button type="button" id="page-prev" ${this.offset > 0 ? "" : "disabled"}>‹ Previous</button>
      <span id="page-range" class="muted">${first.toLocaleString("en-US")}–${last.toLocaleString("en-US")} of ${this.total.toLocaleString("en-US")}</span>
      <button type="button" id="page-next" ${last < this.total ? "" : "disabled"}>Next ›</button></div>`;
  }
}

// The newer of two marks of a campaign at ``version`` or later (null when ``candidate`` is not).
export function newerMark(known, candidate, version) {
  if (!candidate || candidate.version < version) return null;
  if (!known || !known.as_of) return candidate;
  if (!candidate.as_of || Date.parse(candidate.as_of) < Date.parse(known.as_of)) return null;
  if (candidate.version < known.version) return null;
  return candidate;
}

// What a row shows of P&L: the mark where there is one, else what is realized.
export function rowPnl(c) {
  if (c.mark) return { last: c.mark.last_price, total: c.mark.total_pnl, r: c.mark.r_multiple };
  if (c.metrics) return { last: c.last_price, total: c.metrics.total_pnl, r: c.metrics.r_multiple };
  return { last: c.last_price, total: c.realized_pnl, r: null };
}

function row(c) {
  const pnl = rowPnl(c);
  return `<tr data-campaign-id="${esc(c.campaign_id)}" data-version="${esc(c.version)}">
      <td class="id"><a href="#/campaigns/${encodeURIComponent(c.campaign_id)}">${esc(c.campaign_id)}</a>
        <span class="narrow-only">${badge(c.status)} <span class="muted">${esc(c.phase)}</span></span></td>
      <td class="sym">${esc(c.symbol)}</td>
      <td class="st">${badge(c.status)}</td>
      <td class="phase">${esc(c.phase)}</td>
      <td class="num last">${fmtPrice(pnl.last)}</td>
      <td class="num pnl ${pnlClass(pnl.total)}">${fmtSignedMoney(pnl.total)}</td>
      <td class="num r ${pnlClass(pnl.r)}">${fmtR(pnl.r)}</td>
      <td class="num risk">${fmtPct(c.current_risk)}</td>
      <td class="num committed">${fmtPct(c.committed_risk_pct)}</td>
      <td class="num alloc">${fmtPct(c.total_allocation)}</td>
      <td class="time" title="${esc(c.updated_at)}">${fmtShortDateTime(c.updated_at)}</td>
    </tr>`;
}

export const isCreation = (message) => message.type === "event" && message.data && message.data.kind === "CampaignCreated";
