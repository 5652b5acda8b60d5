// The page's two dialogs: the API token (kept in this tab) and the invalidate confirmation.
// They know the page only through what app.js hands them.

export function openTokenDialog(token) {
  const dialog = document.getElementById("token-dialog");
  if (dialog.open) return;
  document.getElementById("token-input").value = token();
  dialog.showModal();
}

export function bindTokenDialog({ token, tokenKey, reconnect }) {
  const dialog = document.getElementById("token-dialog");
  document.getElementById("token-button").addEventListener("click", () => openTokenDialog(token));
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "save") {
      sessionStorage.setItem(tokenKey, document.getElementById("token-input").value.trim());
    } else if (dialog.returnValue === "clear") {
      sessionStorage.removeItem(tokenKey);
    } else {
      return;
    }
    reconnect();
  });
}

export function openInvalidateDialog(view) {
  if (!view || !view.campaign) return;
  document.getElementById("invalidate-campaign").textContent = view.id;
  document.getElementById("invalidate-reason").value = "";
  const error = document.getElementById("invalidate-error");
  error.hidden = true;
  document.getElementById("invalidate-dialog").showModal();
}

// ``current`` is the open campaign's view; ``done(view, campaign)`` takes the API's answer.
export function bindInvalidateDialog({ api, token, current, done }) {
  const dialog = document.getElementById("invalidate-dialog");
  const form = dialog.querySelector("form");
  const error = document.getElementById("invalidate-error");
  const confirm = document.getElementById("invalidate-confirm");
  form.addEventListener("submit", async (event) => {
    if (!event.submitter || event.submitter.value !== "confirm") return; // cancel closes it
    event.preventDefault();
    const view = current();
    const reason = document.getElementById("invalidate-reason").value.trim();
    if (!view || !reason) return;
    confirm.disabled = true;
    error.hidden = true;
    try {
      const headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (token()) headers.Authorization = `Bearer ${token()}`;
      const response = await fetch(`${api}/campaigns/${encodeURIComponent(view.id)}/invalidate`, {
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
      dialog.close("done");
      done(view, body);
    } catch (failure) {
      error.textContent = `The API could not be reached: ${failure.message}`;
      error.hidden = false;
    } finally {
      confirm.disabled = false;
    }
  });
}
