// Numbers as a trader reads them. The API sends decimals as strings; they are turned into
// numbers here for display only (nothing is computed from them but chart positions).

const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const price = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 4 });
const shares = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });
const percent = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const ratio = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export const num = (value) => (value === null || value === undefined ? null : Number(value));

const dash = "–";

export function fmtMoney(value) {
  const n = num(value);
  return n === null ? dash : money.format(n);
}

export function fmtSignedMoney(value) {
  const n = num(value);
  if (n === null) return dash;
  return (n > 0 ? "+" : n < 0 ? "−" : "") + money.format(Math.abs(n));
}

export function fmtPrice(value) {
  const n = num(value);
  return n === null ? dash : price.format(n);
}

export function fmtShares(value) {
  const n = num(value);
  return n === null ? dash : shares.format(n);
}

export function fmtPct(value) {
  const n = num(value);
  return n === null ? dash : `${percent.format(n)}%`;
}

export function fmtR(value) {
  const n = num(value);
  if (n === null) return dash;
  return `${n > 0 ? "+" : n < 0 ? "−" : ""}${ratio.format(Math.abs(n))}R`;
}

export function pnlClass(value) {
  const n = num(value);
  return n === null || n === 0 ? "flat" : n > 0 ? "gain" : "loss";
}

export function fmtTime(iso) {
  if (!iso) return dash;
  const d = new Date(iso);
  return d.toISOString().replace("T", " ").slice(0, 19) + "Z";
}

// To the minute, with the date: a market's hours are read with their day.
export function fmtShortDateTime(iso) {
  if (!iso) return dash;
  return new Date(iso).toISOString().slice(0, 16).replace("T", " ") + "Z";
}


// Text into HTML: every value shown comes through here (event data can hold anything).
export function esc(value) {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
