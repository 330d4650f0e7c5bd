/**
 * One view's state apart from the DOM: focus, the filters, rank changes sent but not yet
 * acknowledged, messages, and `view`, derived from the traits. Needs only `model.get`.
 */
import { apply_pending, group_takes, has_best, visible_lines } from "./ranks.js";
import { layout } from "./layout.js";
import { gain_factor } from "./player.js";

const PENDING_TIMEOUT_MS = 15000;

const UNCONFIRMED_MESSAGE = "The kernel did not confirm a rank change; showing the saved ranks.";

/**
 * What one view of the board shows and remembers, apart from the DOM: focus, the filter, rank
 * changes sent but not yet acknowledged, messages, and `view`, derived from the model's traits
 * by `derive()`. Needs only `model.get`, so node can test it.
 * @param {{get: (name: string) => any}} model
 * @param {{view_id?: string}} [options] `view_id` prefixes the `seq` of this view's rank messages
 */
export function create_view_state(model, { view_id = Math.random().toString(36).slice(2, 10) } = {}) {
  const state = {
    focused: null,
    pending: [], // {seq, file, rank, at}
    seq: 0,
    only_unranked: false,
    sticky: new Set(),
    local_message: "",
    dismissed_error: "",
    matched: true,
    dragging: null,
    disagreements: false, // a lead's Disagreements view
    show_removed: false, // "Show removed": the takes of lines gone from the script, greyed
    asked: new Map(), // task id -> how many takes this view asked for (the pending badge)
    view: null,
  };

  /** How the person sees the batch: solo, lead, blind or rater (the `mode` trait). */
  state.mode = () => model.get("mode") || "solo";

  /**
   * Recompute `view` from the traits and the pending changes; keep focus on a shown take.
   * Removed takes (and lines) are left out unless `show_removed`; the cascade of pending
   * changes still counts them, as Python's does (they keep their ranks).
   */
  state.derive = () => {
    const takes = model.get("takes") ?? [];
    const shown_takes = state.show_removed ? takes : takes.filter((t) => !t.removed);
    const all_lines = model.get("lines") ?? [];
    const shown_lines = state.show_removed ? all_lines : all_lines.filter((l) => !l.removed);
    const groups = group_takes(shown_lines, shown_takes);
    const rank_of = apply_pending(takes, state.pending);
    if (state.mode() !== "lead") state.disagreements = false;
    const panel = model.get("panel") ?? {};
    const panel_lines = new Map((panel.lines ?? []).map((l) => [l.line, l]));
    let lines = visible_lines(groups, rank_of, state.only_unranked, state.sticky);
    if (state.disagreements) {
      const shown = new Set(lines); // least agreement first, as Python ordered them
      lines = [...panel_lines.keys()].filter((name) => shown.has(name) && groups.has(name));
    }
    const { rows, height } = layout(lines, groups);
    const order = rows.filter((r) => r.kind === "take").map((r) => r.file);
    const take_of = new Map(takes.map((t) => [t.file, t]));
    const index_of = new Map(takes.map((t, i) => [t.file, i]));
    const row_index = new Map(rows.map((r, i) => [r.key, i]));
    const text_of = new Map(all_lines.map((l) => [l.line, l.script_text ?? ""]));
    const has_removed = takes.some((t) => t.removed);
    state.view = {
      ...{ takes, groups, rank_of, lines, rows, height, order },
      ...{ take_of, index_of, row_index, panel, panel_lines, text_of, has_removed },
      ...{ notes: model.get("notes") ?? {}, pending: model.get("pending") ?? {} },
    };
    if (!take_of.has(state.focused) || !order.includes(state.focused)) {
      state.focused = order[0] ?? null;
    }
  };

  state.readonly = () => Boolean(model.get("locked"));

  /**
   * What a rank key, drop or × sends: "rank" (a rater's own ranking, or the shared one),
   * "override" (a lead's final ranks, in Disagreements), or "" (a lead's normal view shows the
   * consensus: nothing to send).
   */
  state.rank_kind = () => {
    if (state.mode() !== "lead") return "rank";
    return state.disagreements ? "override" : "";
  };

  /** Show a lead's Disagreements view (or leave it); only a lead's board has one. */
  state.set_disagreements = (on) => {
    state.disagreements = Boolean(on) && state.mode() === "lead";
    state.derive();
  };
  /** Whether the person's role allows `action` (the `allowed` trait; Python checks again). */
  state.may = (action) => (model.get("allowed") ?? []).includes(action);
  state.line_of = (file) => state.view.take_of.get(file)?.line ?? null;
  state.take_gain = (file) => gain_factor(state.view.take_of.get(file)?.gain_db ?? 0, state.matched);

  /**
   * Record a rank change the user made, shown at once until Python acknowledges its `seq`;
   * returns the pending change ({seq, file, rank, at}), or null when it changes nothing shown.
   * Callers refuse first when `readonly()` or the role may not rank.
   */
  state.begin_rank = (file, rank, now = Date.now()) => {
    if (!file || state.view.rank_of.get(file) === rank) return null;
    const op = { seq: `${view_id}:${++state.seq}`, file, rank, at: now };
    state.pending.push(op);
    state.local_message = "";
    state.derive();
    return op;
  };

  /** Python acknowledged `seq`; false if no pending change has it. */
  state.settle = (seq) => {
    const index = state.pending.findIndex((op) => op.seq === seq);
    if (index < 0) return false;
    state.pending.splice(0, index + 1); // Python answers in order: earlier ones are done too
    state.derive();
    return true;
  };

  /** Drop every pending change once one has waited too long for its ack; true if it did. */
  state.expire = (now = Date.now()) => {
    if (!state.pending.some((op) => now - op.at > PENDING_TIMEOUT_MS)) return false;
    state.pending = [];
    state.local_message = UNCONFIRMED_MESSAGE;
    state.derive();
    return true;
  };

  /** "Unranked only": lines unranked now stay shown (sticky) while they get ranked. */
  state.filter_unranked = (on) => {
    state.only_unranked = on;
    state.derive();
    const { lines, groups, rank_of } = state.view;
    state.sticky = new Set(lines.filter((n) => !has_best(groups.get(n), rank_of)));
    state.derive();
  };

  /** "Show removed": the takes of lines gone from the script, greyed, or not. */
  state.set_show_removed = (on) => {
    state.show_removed = Boolean(on);
    state.derive();
  };

  /** Whether a line may get more takes now (the role, the mode, an open batch). */
  state.more_offered = () => state.may("more") && !state.readonly();

  /** The message box's text: a local message, else Python's `error` unless dismissed. */
  state.message = () => {
    const error = model.get("error") ?? "";
    return state.local_message || (error !== state.dismissed_error ? error : "");
  };

  state.dismiss_message = () => {
    state.local_message = "";
    state.dismissed_error = model.get("error") ?? "";
  };

  return state;
}
