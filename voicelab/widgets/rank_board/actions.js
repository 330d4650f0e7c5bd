/**
 * What the user can do: move the focus, rank, and every message the board sends to Python
 * (docs/widget-protocol.md; `audio` requests are `create_audio`'s). Refuses at once, with a
 * message, what the role or a locked batch does not allow.
 */
import { retired_message } from "./ranks.js";
import { LEAD_RANK_MESSAGE, LOCKED_MESSAGE, MORE_LOCKED_MESSAGE, refusal } from "./refusals.js";
import { jump_target } from "./lock_dialog.js";
import { MAX_MORE } from "./more.js";

const ESTIMATE_DELAY_MS = 250;

/**
 * What the user can do, for the event binders: move focus, rank, and the messages the board
 * sends to Python (docs/widget-protocol.md; `audio` requests are sent by `create_audio`).
 * @param {{send: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 * @param {ReturnType<typeof create_audio>} audio
 * @param {ReturnType<typeof create_renderer>} renderer
 */
export function create_actions(model, state, audio, renderer) {
  /** Focus a take; while playing (and `follow`), playback follows it within its line. */
  const set_focus = (file, { follow = true } = {}) => {
    if (!file) return;
    state.focused = file;
    const { player } = audio;
    if (follow && player.playing && player.file !== file) {
      if (player.line === state.line_of(file)) audio.play(file, player.position());
      else player.stop();
    }
    renderer.ensure_visible(file);
    audio.prefetch(file);
    renderer.schedule();
  };

  /**
   * Refuse at once what the board cannot do (a locked batch, a role without `action`), with a
   * message; true when refused, and nothing is sent.
   */
  const refuse = (action, { locked = true } = {}) => {
    if (!state.may(action)) renderer.show_local(refusal(model.get("role"), action, state.mode()));
    else if (locked && state.readonly()) renderer.show_local(LOCKED_MESSAGE);
    else return false;
    return true;
  };

  /**
   * Ask Python to give `file` the rank `rank` (null clears); shown at once, as pending. On a
   * lead's panel board that is an override (the line's final ranks), and only in
   * Disagreements: the normal view shows the consensus.
   */
  const send_rank = (file, rank) => {
    const why = retired_message(state.view.take_of.get(file));
    if (why) {
      renderer.show_local(why); // Python would refuse it too (TakeRetired)
      return;
    }
    const kind = state.rank_kind();
    if (!kind) {
      renderer.show_local(LEAD_RANK_MESSAGE);
      return;
    }
    if (refuse(kind === "override" ? "panel" : "rank")) return;
    const op = state.begin_rank(file, rank);
    if (!op) return;
    if (kind === "override") model.send({ kind: "override", file, rank, seq: op.seq });
    else model.send({ kind: "rank", file, rank, seq: op.seq });
    renderer.schedule();
  };

  /** A lead closes a line (its ranks final) or reopens it, from Disagreements. */
  const close_line = (line) => {
    if (line && !refuse("panel")) model.send({ kind: "close", line });
  };
  const reopen_line = (line) => {
    if (line && !refuse("panel")) model.send({ kind: "reopen", line });
  };

  /** The `c` key in Disagreements: close the focused take's line, or reopen it if closed. */
  const toggle_line = () => {
    if (!state.disagreements) return;
    const line = state.line_of(state.focused);
    if (state.view.panel_lines.get(line)?.closed) reopen_line(line);
    else close_line(line);
  };

  /** A lead's Disagreements view on or off (the toggle, `d`); the focused take stays shown. */
  const toggle_disagreements = () => {
    if (state.mode() !== "lead") return;
    state.set_disagreements(!state.disagreements);
    renderer.scroll_to_top();
    if (state.focused) renderer.ensure_visible(state.focused);
    renderer.schedule();
  };

  /** "Open panel" in the dialog: {raters, blind} to Python, which opens it in the lead's name. */
  const open_panel = ({ raters, blind }) => {
    if (refuse("panel")) return false;
    if (!raters.length) {
      renderer.show_local("Choose at least one rater (tick a name, or type names).");
      return false;
    }
    model.send({ kind: "panel", raters, blind });
    return true;
  };

  /** The line the line keys (n, g) act on: the focused take's. */
  const focused_line = () => state.line_of(state.focused);

  /** Open the note editor of a line (n, "Note"), if the role may write notes. */
  const open_note = (line = focused_line()) => {
    if (!line) return;
    if (!state.may("note")) renderer.show_local(refusal(model.get("role"), "note", state.mode()));
    else renderer.open_note(line);
  };

  /** Save: the note to Python, which writes it in the person's name; the editor closes. */
  const save_note = () => {
    const { line, text, needs_pass } = renderer.note_editor.fields();
    if (!line || refuse("note", { locked: false })) return;
    model.send({ kind: "note", line, text, needs_pass });
    renderer.note_editor.close();
  };

  let estimates = 0;
  let estimate_timer = 0;

  /** Open the "more takes" dialog of a line (g, "More takes…") and ask for its estimate. */
  const open_more = (line = focused_line()) => {
    if (!line) return;
    if (!state.may("more")) renderer.show_local(refusal(model.get("role"), "more", state.mode()));
    else if (state.readonly()) renderer.show_local(MORE_LOCKED_MESSAGE);
    else {
      renderer.open_more(line);
      estimate_more();
    }
  };

  /** Ask Python what the dialog's request would spend; only the last answer is shown. */
  const estimate_more = () => {
    clearTimeout(estimate_timer);
    const dialog = renderer.more_dialog;
    if (!dialog.is_open()) return;
    const request = dialog.request();
    if (request.takes === null) {
      dialog.invalid(`How many: a whole number from 1 to ${MAX_MORE}.`);
      return;
    }
    const seq = `e${++estimates}:${Math.random().toString(36).slice(2, 8)}`;
    dialog.expect(seq, request);
    const { line, takes, like, text } = request;
    model.send({ kind: "more_estimate", line, takes, like, text, seq });
  };

  /** The dialog's fields changed: the shown estimate no longer holds; ask again, shortly. */
  const more_changed = () => {
    renderer.more_dialog.changed();
    clearTimeout(estimate_timer);
    estimate_timer = setTimeout(estimate_more, ESTIMATE_DELAY_MS);
  };

  /** "Ask for N takes": the request just estimated, to Python, which queues the job. */
  const ask_more = () => {
    const dialog = renderer.more_dialog;
    if (!dialog.is_open() || !dialog.ready()) return;
    if (!state.more_offered()) {
      renderer.show_local(state.readonly() ? MORE_LOCKED_MESSAGE : refusal(model.get("role"), "more", state.mode()));
      return;
    }
    const { line, takes, like, text } = dialog.request();
    dialog.start();
    model.send({ kind: "more", line, takes, like, text });
  };

  /** Python's `more` reply: a queued job's takes are counted for the line's pending badge. */
  const on_more = (msg) => {
    if (msg.ok && msg.task_id) state.asked.set(msg.task_id, msg.takes);
    renderer.more_dialog.show_result(msg);
    renderer.schedule();
  };

  /** Python's `ack` of a rank message. */
  const on_ack = (msg) => {
    if (state.settle(msg.seq)) renderer.schedule();
  };

  const expire_pending = () => {
    if (state.expire()) renderer.schedule();
  };

  /** Ask Python to undo this person's last change on the batch (u, Ctrl+Z, "Undo"). */
  const undo = () => {
    if (!refuse("undo")) model.send({ kind: "undo" });
  };

  /**
   * Ask Python to lock (a lead's, after the confirmation); `force` when the dialog listed the
   * quality gate's lines and the lead chose "Lock anyway".
   */
  const lock = ({ force = false } = {}) => {
    if (refuse("lock")) return;
    if (force) model.send({ kind: "lock", force: true });
    else model.send({ kind: "lock" });
  };

  /**
   * "Go to line" in the lock dialog: show the line (past the "Unranked only" filter and the
   * Disagreements view) and focus its selected take, else its first take.
   */
  const go_to_line = (problem) => {
    if (!state.view.groups.has(problem.line)) return;
    if (!state.view.lines.includes(problem.line)) {
      state.sticky.add(problem.line);
      if (state.disagreements) state.set_disagreements(false);
      else state.derive();
    }
    set_focus(jump_target(problem, state.view.groups), { follow: false });
  };

  /** Ask Python to open the locked batch again (a lead's, after the confirmation). */
  const unlock = () => {
    if (!refuse("unlock", { locked: false })) model.send({ kind: "unlock" });
  };

  /** Ask Python for the rank-1 takes as a zip, with the export dialog's `{preset, format}`. */
  const export_selects = (choice) => {
    if (refuse("export", { locked: false })) return;
    if (choice) model.send({ kind: "export", rank: 1, preset: choice.preset, format: choice.format });
    else model.send({ kind: "export", rank: 1 });
  };

  return {
    ...{ set_focus, send_rank, on_ack, expire_pending, refuse, undo, lock, unlock, export_selects },
    go_to_line,
    ...{ close_line, reopen_line, toggle_line, toggle_disagreements, open_panel },
    ...{ open_note, save_note, open_more, estimate_more, more_changed, ask_more, on_more },
    on_estimate: (msg) => renderer.more_dialog.show_estimate(msg),
    refresh: () => model.send({ kind: "refresh" }),
  };
}
