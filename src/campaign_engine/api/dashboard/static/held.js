// Bad prints (SPEC section 11): a line under the header while price updates are held back,
// read from GET /prices/held every few seconds. Text only (textContent): no markup is built.

const EVERY_MS = 5000;
const SHOWN = 3; // updates named; the rest counted

function describe(hold) {
  const price = hold.low === hold.high ? hold.low : `${hold.low}..${hold.high}`;
  return `${hold.symbol} ${price} at ${hold.as_of} (last accepted ${hold.reference}, #${hold.hold_id})`;
}

export function describeHolds(holds) {
  if (!holds.length) return "";
  const named = holds.slice(0, SHOWN).map(describe).join("; ");
  const more = holds.length > SHOWN ? `; and ${holds.length - SHOWN} more` : "";
  return `${holds.length} price update(s) held as bad prints, not acted on: ${named}${more}. `
    + "Release or discard: POST /api/v1/prices/held/<id>/release or /discard.";
}

export function watchHeldPrints(element, api) {
  async function refresh() {
    try {
      const response = await fetch(`${api}/prices/held`, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const text = describeHolds((await response.json()).holds);
      element.textContent = text;
      element.hidden = !text;
    } catch {
      // the API is away: the connection indicator says so; keep what was shown
    }
  }
  refresh();
  return setInterval(refresh, EVERY_MS);
}
