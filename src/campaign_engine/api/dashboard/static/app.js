// The dashboard: first state from the REST API, then the live stream keeps it current.
// Two views, by the address's hash: the overview (#/) and one campaign (#/campaigns/<id>).

import { bookHistoryPanel } from "./book.js";
import { bindInvalidateDialog, bindTokenDialog, openInvalidateDialog, openTokenDialog } from "./dialogs.js";
import { watchHeldPrints } from "./held.js";
import { LiveStream } from "./live.js";
import { CampaignList, PAGE_SIZE, isCreation, newerMark } from "./overview.js";
import { campaignPage, filtersForm, placeMeters, portfolioPanel } from "./views.js";

const API = "/api/v1";
const TOKEN_KEY = "campaign-engine.api-token";
const BARS_EVERY_MS = 2000;
const HISTORY_EVERY_MS = 1000;

const state = {
  policy: null,
  portfolio: null,
  history: null, // the book over time (GET /portfolio/history)
  list: new CampaignList(), // the overview's page of campaigns
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

// The open campaign as read or pushed: a newer version replaces it, the same one may add what
// was missing (its mark), an older one is dropped.
function merge(known, campaign) {
  if (known && campaign.version < known.version) return known;
  const merged = known && campaign.version === known.version ? { ...known, ...campaign } : campaign;
  if (known && known.mark) merged.mark = newerMark(known.mark, campaign.mark, merged.version) || known.mark;
  return merged;
}

// --- loading ---------------------------------------------------------------------------------

async function loadList() {
  if (await state.list.load(get)) render();
}

async function loadHistory() {
  state.history = await get("/portfolio/history?limit=2000");
  render();
}

// The history grows with every change: read again after the portfolio moves, at most once a
// HISTORY_EVERY_MS (the last change always read).
let historyTimer = null;
let historyReadAt = 0;
function scheduleHistory() {
  if (historyTimer) return;
  const wait = Math.max(0, historyReadAt + HISTORY_EVERY_MS - Date.now());
  historyTimer = setTimeout(() => {
    historyTimer = null;
    historyReadAt = Date.now();
    loadHistory().catch(showError);
  }, wait);
}

// The list first of all (a trader's first look), the book's figures beside it: none waits on
// another.
async function loadOverview() {
  const book = Promise.all([get("/policy"), get("/portfolio")]).then(([policy, portfolio]) => {
    state.policy = policy;
    state.portfolio = portfolio;
    render();
  });
  loadHistory().catch(showError);
  await Promise.all([loadList(), book]);
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
  view.campaign = merge(view.campaign, campaign);
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
  const view = state.view;
  switch (message.type) {
    case "event": {
      if (isCreation(message)) state.list.noteCreated(message.campaign_id);
      if (view && message.campaign_id === view.id && !view.events.some((e) => e.event_id === message.event_id)) {
        view.events.push(message);
        scheduleExtras(view);
      }
      break;
    }
    case "campaign": {
      state.list.applyCampaign(message.campaign);
      if (view && view.id === message.campaign.campaign_id) {
        view.campaign = merge(view.campaign, message.campaign);
        view.missing = false;
      }
      break;
    }
    case "mark": {
      state.list.applyMark(message);
      if (view && view.campaign && view.id === message.campaign_id) {
        const newer = newerMark(view.campaign.mark, message, view.campaign.version);
        if (newer) view.campaign = { ...view.campaign, mark: newer };
      }
      break;
    }
    case "portfolio":
      state.portfolio = message.portfolio;
      scheduleHistory();
      break;
    case "reset":
      state.list = new CampaignList();
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
  if (kind === "unauthorized") openTokenDialog(token);
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
    if (button) button.addEventListener("click", () => openInvalidateDialog(state.view));
    document.title = `${state.view.id} · campaign-engine`;
    return;
  }
  document.title = "campaign-engine";
  if (!root.querySelector("#overview")) {
    root.innerHTML = `<div id="overview" class="overview">
      <div id="portfolio-slot"></div>
      <section class="panel history"><h2>History <span class="muted">in market time</span></h2><div id="history-slot"></div></section>
      <section class="panel campaigns"><div class="panel-head"><h2>Campaigns</h2>${filtersForm(state.list.filter)}</div>
        <div id="list-slot"></div></section></div>`;
    bindList();
  }
  const portfolio = document.getElementById("portfolio-slot");
  portfolio.innerHTML = portfolioPanel(state.portfolio, state.policy);
  placeMeters(portfolio);
  const history = document.getElementById("history-slot");
  history.innerHTML = bookHistoryPanel(state.history, history.clientWidth);
  document.getElementById("list-slot").innerHTML = state.list.html();
}

// The list's controls: bound once on the overview; its buttons are redrawn with it.
function bindList() {
  const list = () => state.list;
  const status = document.getElementById("filter-status");
  const symbol = document.getElementById("filter-symbol");
  let typing = null;
  const changed = () => {
    list().filter = { status: status.value, symbol: symbol.value };
    list().offset = 0;
    clearTimeout(typing);
    typing = setTimeout(() => loadList().catch(showError), 150);
  };
  status.addEventListener("change", changed);
  symbol.addEventListener("input", changed);
  // Enter in the symbol field filters as typing does; the form is never sent.
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("list-slot").addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.disabled) return;
    if (button.dataset.sort) list().sortBy(button.dataset.sort);
    else if (button.id === "page-next") list().offset += PAGE_SIZE;
    else if (button.id === "page-prev") list().offset = Math.max(0, list().offset - PAGE_SIZE);
    else if (button.id === "list-reload") list().offset = 0;
    else return;
    loadList().catch(showError);
  });
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

bindTokenDialog({ token, tokenKey: TOKEN_KEY, reconnect: () => live.reconnectNow() });
bindInvalidateDialog({
  api: API,
  token,
  current: () => state.view,
  done: (view, campaign) => {
    if (state.view === view) view.campaign = merge(view.campaign, campaign);
    render();
  },
});
window.addEventListener("hashchange", route);
window.addEventListener("resize", () => render());
route();
live.start();
