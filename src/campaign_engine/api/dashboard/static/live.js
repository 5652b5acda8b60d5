// The live stream (/api/v1/ws): connects, resumes from the last cursor after any loss, and
// tells the page what state it is in. The server sends a heartbeat every 10 s; a socket
// silent for longer than STALE_MS is taken as lost even if the browser has not noticed.

const STALE_MS = 25000;
const PROTOCOL = "campaigns.v1";

export class LiveStream {
  constructor({ onMessage, onState, token }) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.token = token; // () => the API token or ""
    this.cursor = null;
    this.socket = null;
    this.retryMs = 500;
    this.timer = null;
    this.staleTimer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  // Start over from the newest event (after a reset of the page's state).
  restart() {
    this.cursor = null;
    this.reconnectNow();
  }

  reconnectNow() {
    clearTimeout(this.timer);
    if (this.socket) {
      const old = this.socket;
      this.socket = null;
      old.onclose = null;
      old.close();
    }
    this.connect();
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.cursor ? `?cursor=${encodeURIComponent(this.cursor)}` : "";
    return `${scheme}//${location.host}/api/v1/ws${query}`;
  }

  connect() {
    if (this.stopped) return;
    this.onState("connecting", this.cursor ? "reconnecting" : "connecting");
    const token = this.token();
    // The token as a subprotocol: it stays out of URLs (and so out of logs and history).
    const protocols = token && /^[\x21-\x7e]+$/.test(token) && !/[()<>@,;:\\"/[\]?={}]/.test(token)
      ? [PROTOCOL, `bearer.${token}`]
      : [PROTOCOL];
    let url = this.url();
    if (token && protocols.length === 1) {
      url += `${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
    }
    const socket = new WebSocket(url, protocols);
    this.socket = socket;
    socket.onopen = () => this.touch();
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      this.touch();
      const data = JSON.parse(message.data);
      if (data.type === "hello") {
        this.retryMs = 500;
        this.onState("live", "live");
      }
      if (data.cursor) this.cursor = data.cursor;
      this.onMessage(data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      clearTimeout(this.staleTimer);
      this.closed(event);
    };
  }

  closed(event) {
    if (event.code === 4401) {
      this.onState("unauthorized", "API token needed");
      return; // until a token is given (the page calls reconnectNow)
    }
    if (event.code === 4400 || event.code === 4404) {
      // The stream does not know where we were (e.g. a new database): start afresh.
      this.onMessage({ type: "reset" });
      this.cursor = null;
    }
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 5000);
    this.onState("offline", `connection lost, retrying in ${Math.ceil(wait / 1000)} s`);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  touch() {
    clearTimeout(this.staleTimer);
    this.staleTimer = setTimeout(() => {
      if (this.socket) {
        const stale = this.socket;
        this.socket = null;
        stale.onclose = null;
        stale.close();
        this.closed({ code: 1006 });
      }
    }, STALE_MS);
  }
}
