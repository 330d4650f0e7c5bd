/**
 * Presence: who else has this batch open, and on which line (the server keeps it in memory:
 * api/presence.py). The board says it is here every BEAT_MS and as soon as its line changes,
 * shows the others in the toolbar, and says it is gone on unload. Where no VoiceLab server
 * answers (JupyterLab, Notebook 7) it stops after the first try, silently.
 */

export const BEAT_MS = 2500;
const CHECK_MS = 400;

/**
 * What the toolbar says of the others: names and lines, or (a panel's rater) only how many.
 * @param {{count: number, others: {name: string, line: string|null}[]}} presence
 */
export function presence_label({ count, others }) {
  if (others.length) {
    const seen = others.map((o) => (o.line ? `${o.name} (${o.line})` : o.name));
    return `Also here: ${[...new Set(seen)].join(", ")}`;
  }
  if (!count) return "";
  return count === 1 ? "1 other person here" : `${count} other people here`;
}

/** A fresh id for this open view (one per tab): what the server keys presence by. */
export function new_view_id() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "v" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Keep this view's presence and show the others in `.vl-presence`; returns the cleanup.
 * @param {HTMLElement} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 * @param {{fetch?: Function, base?: string}} [options]
 */
export function start_presence(root, model, state, { fetch: send = globalThis.fetch, base = "/" } = {}) {
  const badge = root.querySelector(".vl-presence");
  const view = new_view_id();
  const url = `${base}api/batch/${encodeURIComponent(model.get("batch_id") ?? "")}/presence`;
  let sent_line, sent_at = 0, stopped = false, busy = false;

  const show = (presence) => {
    const text = presence ? presence_label(presence) : "";
    badge.textContent = text;
    badge.hidden = !text;
  };
  const beat = async () => {
    if (stopped || busy || !send || !model.get("batch_id")) return;
    const line = state.focused ? state.line_of(state.focused) ?? null : null;
    if (line === sent_line && Date.now() - sent_at < BEAT_MS) return;
    busy = true;
    sent_line = line;
    sent_at = Date.now();
    try {
      const response = await send(url, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ view, line }),
      });
      if (!response.ok) {
        if (response.status === 404 || response.status === 405) stopped = true; // no VoiceLab here
        return show(null);
      }
      show((await response.json()).data);
    } catch (_err) {
      stopped = true; // no server to tell: nothing to show
      show(null);
    } finally {
      busy = false;
    }
  };
  const leave = () => {
    if (stopped) return;
    stopped = true;
    send?.(`${url}?view=${view}`, { method: "DELETE", credentials: "same-origin", keepalive: true })
      .catch(() => {});
  };
  const timer = setInterval(beat, CHECK_MS);
  globalThis.addEventListener?.("pagehide", leave);
  beat();
  return () => {
    clearInterval(timer);
    globalThis.removeEventListener?.("pagehide", leave);
    leave();
  };
}
