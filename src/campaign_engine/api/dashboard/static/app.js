// The dashboard: first state from the REST API, then the live stream keeps it current.
// Two views, by the address's hash: the overview (#/) and one campaign (#/campaigns/<id>).

import { watchHeldPrints } from "./held.js";
import { LiveStream } from "./live.js";
import {
  campaignPage, campaignsTable, filtersForm, placeMeters, portfolioPanel,
} from "./views.js";

const API = "/api/v1";
const TOKEN_KEY = "campaign-engine.api-token";
const BARS_EVERY_MS = 2000;

const state = {
  policy: null,
  portfolio: null,
  campaigns: new Map(), // campaign_id -> the campaign, as listed or in full (with metrics)
  filter: { status: "", symbol: "" },
  view: null, // the open campaign: { id, campaign, allocations, events, bars, missing }
  loaded: false,
};

const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

async function get(path) {
  const response = await fetch(API + path, { headers: { Accept: "application/json" } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// A newer version replaces what is known; the same version may add what was missing.
function upsert(campaign) {
  const known = state.campaigns.get(campaign.campaign_id);
  if (known && campaign.version < known.version) return known;
  const merged = known && campaign.version === known.version ? { ...known, ...campaign } : campaign;
  state.campaigns.set(campaign.campaign_id, merged);
  return merged;
}

function sortedCampaigns() {
  return [...state.campaigns.values()].sort(
    (a, b) => b.created_at.localeCompare(a.created_at) || a.campaign_id.localeCompare(b.campaign_id),
  );
}

// --- loading ---------------------------------------------------------------------------------

async function loadList() {
  const query = new URLSearchParams({ limit: "100" });
  if (state.filter.status) query.set("status", state.filter.status);
  if (state.filter.symbol.trim()) query.set("symbol", state.filter.symbol.trim());
  const page = await get(`/campaigns?${query}`);
  const open = [];
  for (const row of page.data) {
    const known = upsert(row);
    if (row.status !== "COMPLETED" && row.status !== "INVALIDATED" && !known.metrics) open.push(row.campaign_id);
  }
  // Open campaigns' P&L includes what is not realized yet: read them in full.
  await Promise.all(open.map(async (id) => {
    const full = await get(`/campaigns/${encodeURIComponent(id)}`);
    if (full) upsert(full);
  }));
}

async function loadOverview() {
  const [policy, portfolio] = await Promise.all([get("/policy"), get("/portfolio")]);
  state.policy = policy;
  state.portfolio = portfolio;
  await loadList();
  state.loaded = true;
}

async function loadCampaign(view) {
  const id = encodeURIComponent(view.id);
  const [campaign, allocations, events, bars] = await Promise.all([
    get(`/campaigns/${id}`), get(`/campaigns/${id}/allocations`),
    get(`/campaigns/${id}/events`), get(`/campaigns/${id}/bars`),
  ]);
  if (state.view !== view) return;
  if (!campaign) {
    view.missing = true;
    return;
  }
  view.campaign = upsert(campaign);
  view.allocations = allocations;
  // The trail as read, then what the stream brought meanwhile that it did not hold yet.
  // The REST API names an event's type "type"; the stream, whose messages have a type of
  // their own, "event_type". The page reads the stream's names.
  const trail = events.events.map((e) => ({ ...e, event_type: e.type }));
  const read = new Set(trail.map((e) => e.event_id));
  view.events = [...trail, ...view.events.filter((e) => !read.has(e.event_id))];
  view.bars = bars ? bars.bars : [];
}

async function refreshCampaignExtras(view) {
  const id = encodeURIComponent(view.id);
  const [allocations, bars] = await Promise.all([get(`/campaigns/${id}/allocations`), get(`/campaigns/${id}/bars`)]);
  if (state.view !== view) return;
  if (allocations) view.allocations = allocations;
  if (bars) view.bars = bars.bars;
  render();
}

// --- the live stream -------------------------------------------------------------------------

function onMessage(message) {
  switch (message.type) {
    case "event": {
      const view = state.view;
      if (view && message.campaign_id === view.id && !view.events.some((e) => e.event_id === message.event_id)) {
        view.events.push(message);
        scheduleExtras(view);
      }
      break;
    }
    case "campaign": {
      const campaign = upsert(message.campaign);
      if (state.view && state.view.id === campaign.campaign_id) {
        state.view.campaign = campaign;
        state.view.missing = false;
      }
      break;
    }
    case "portfolio":
      state.portfolio = message.portfolio;
      break;
    case "reset":
      state.campaigns.clear();
      state.loaded = false;
      break;
    case "hello":
      if (!state.loaded) start().catch(showError);
      return;
    default:
      return;
  }
  render();
}

function onState(kind, text) {
  const el = document.getElementById("connection");
  el.dataset.state = kind;
  el.textContent = text;
  if (kind === "unauthorized") openTokenDialog();
}

const live = new LiveStream({ onMessage, onState, token });

let extrasTimer = null;
function scheduleExtras(view) {
  clearTimeout(extrasTimer);
  extrasTimer = setTimeout(() => refreshCampaignExtras(view).catch(showError), 150);
}

// --- rendering -------------------------------------------------------------------------------

let frame = 0;
function render() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    draw();
  });
}

function draw() {
  const root = document.getElementById("view");
  if (state.view) {
    // The chart's panel: the page's width less the panels' padding and border.
    const chartWidth = root.clientWidth - 2 * parseFloat(getComputedStyle(root).paddingLeft) - 36;
    root.innerHTML = campaignPage(state.view, state.policy, chartWidth);
    placeMeters(root);
    const button = document.getElementById("invalidate");
    if (button) button.addEventListener("click", openInvalidateDialog);
    document.title = `${state.view.id} · campaign-engine`;
    return;
  }
  document.title = "campaign-engine";
  if (!root.querySelector("#overview")) {
    root.innerHTML = `<div id="overview" class="overview">
      <div id="portfolio-slot"></div>
      <section class="panel campaigns"><div class="panel-head"><h2>Campaigns</h2>${filtersForm(state.filter)}</div>
        <div id="list-slot" class="scroll"></div></section></div>`;
    bindFilters();
  }
  const portfolio = document.getElementById("portfolio-slot");
  portfolio.innerHTML = portfolioPanel(state.portfolio, state.policy);
  placeMeters(portfolio);
  document.getElementById("list-slot").innerHTML = state.loaded
    ? campaignsTable(sortedCampaigns(), state.filter)
    : `<p class="muted">loading</p>`;
}

function bindFilters() {
  const status = document.getElementById("filter-status");
  const symbol = document.getElementById("filter-symbol");
  const changed = () => {
    state.filter = { status: status.value, symbol: symbol.value };
    render();
    loadList().then(render).catch(showError);
  };
  status.addEventListener("change", changed);
  symbol.addEventListener("input", changed);
  // Enter in the symbol field filters as typing does; the form is never sent.
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
}

function showError(error) {
  console.error(error);
}

// --- routing ---------------------------------------------------------------------------------

let barsTimer = null;
function route() {
  clearInterval(barsTimer);
  const match = location.hash.match(/^#\/campaigns\/(.+)$/);
  if (match) {
    const view = { id: decodeURIComponent(match[1]), campaign: null, allocations: null, events: [], bars: [], missing: false };
    state.view = view;
    render();
    loadCampaign(view).then(render).catch(showError);
    // Prices move without events: the chart follows them while the campaign is open.
    barsTimer = setInterval(() => {
      const c = view.campaign;
      if (c && !(c.closed_at && view.bars.length)) refreshCampaignExtras(view).catch(showError);
    }, BARS_EVERY_MS);
  } else {
    state.view = null;
    document.getElementById("view").innerHTML = "";
    render();
  }
  window.scrollTo(0, 0);
}

async function start() {
  watchHeldPrints(document.getElementById("held-prints"), API);
  await loadOverview();
  render();
}

// --- dialogs ---------------------------------------------------------------------------------

function openTokenDialog() {
  const dialog = document.getElementById("token-dialog");
  if (dialog.open) return;
  document.getElementById("token-input").value = token();
  dialog.showModal();
}

function bindTokenDialog() {
  const dialog = document.getElementById("token-dialog");
  document.getElementById("token-button").addEventListener("click", openTokenDialog);
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "save") {
      sessionStorage.setItem(TOKEN_KEY, document.getElementById("token-input").value.trim());
    } else if (dialog.returnValue === "clear") {
      sessionStorage.removeItem(TOKEN_KEY);
    } else {
      return;
    }
    live.reconnectNow();
  });
}

function openInvalidateDialog() {
  const view = state.view;
  if (!view || !view.campaign) return;
  document.getElementById("invalidate-campaign").textContent = view.id;
  document.getElementById("invalidate-reason").value = "";
  const error = document.getElementById("invalidate-error");
  error.hidden = true;
  document.getElementById("invalidate-dialog").showModal();
}

function bindInvalidateDialog() {
  const dialog = document.getElementById("invalidate-dialog");
  const form = dialog.querySelector("form");
  const error = document.getElementById("invalidate-error");
  const confirm = document.getElementById("invalidate-confirm");
  form.addEventListener("submit", async (event) => {
    if (!event.submitter || event.submitter.value !== "confirm") return; // cancel closes it
    event.preventDefault();
    const view = state.view;
    const reason = document.getElementById("invalidate-reason").value.trim();
    if (!view || !reason) return;
    confirm.disabled = true;
    error.hidden = true;
    try {
      const headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (token()) headers.Authorization = `Bearer ${token()}`;
      const response = await fetch(`${API}/campaigns/${encodeURIComponent(view.id)}/invalidate`, {
        method: "POST", headers, body: JSON.stringify({ reason }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        const detail = typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`;
        error.textContent = response.status === 401
          ? `${detail}. Set the API token (top right) and try again.`
          : detail;
        error.hidden = false;
        return;
      }
      if (state.view === view) view.campaign = upsert(body);
      dialog.close("done");
      render();
    } catch (failure) {
      error.textContent = `The API could not be reached: ${failure.message}`;
      error.hidden = false;
    } finally {
      confirm.disabled = false;
    }
  });
}

bindTokenDialog();
bindInvalidateDialog();
window.addEventListener("hashchange", route);
window.addEventListener("resize", () => { if (state.view) render(); });
route();
live.start();
