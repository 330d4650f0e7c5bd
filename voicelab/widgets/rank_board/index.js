/**
 * VoiceLab ranking board: the anywidget front end of voicelab/widgets/rank_board.py.
 *
 * The entry of the board's sources. anywidget loads the board from a Blob URL, so the shipped
 * voicelab/widgets/rank_board.js must import nothing: `make bundle` (scripts/bundle.mjs) bundles
 * this folder with esbuild into that one ES module, and rank_board.css from index.css. Edit the
 * sources here, never the shipped files; tests/unit/test_board_bundle.py fails while they differ.
 * VoiceLab makes no request off its host (docs/design.md, decision 10). The modules, by concern:
 *
 *   labels, ranks, layout     pure helpers: names, the rank cascade, the virtual list's geometry
 *   refusals                  what the board says when it refuses an action at once
 *   view_state                one view's state apart from the DOM, derived from the traits
 *   player, audio, waveform   Web Audio playback, where a take's bytes come from, waveforms
 *   dom, root, rows           DOM helpers, the root's markup (TEMPLATE) and marks, the list's rows
 *   toolbar, lock_dialog, panel, notes, more, export, line_list   the parts, one area each
 *   renderer                  the parts composed, drawn once per animation frame
 *   actions                   what the user can do; every message the board sends to Python
 *   events, keys, protocol    clicks, drag and drop, keys, and the model's traits and messages
 *
 * `render` only wires the factories; each takes its inputs explicitly, and each event binder
 * returns its own cleanup. What needs no page (the pure helpers, view state, audio requests,
 * actions, event binders given fake targets, the renderer's parts given fake elements) is
 * exported, here and from the shipped module, for `node --test` (tests/js/); `default` is the
 * widget.
 *
 * State comes from Python traits (takes, lines, peaks, locked, error, notice, person, role,
 * allowed, mode, panel, notes, pending, ...). Actions go to Python as messages (rank, undo,
 * lock, unlock, refresh, audio, export, note, more_estimate, more; a lead's panel, override,
 * close, reopen) and Python answers some (ack, audio, export, more_estimate, more):
 * docs/widget-protocol.md describes every trait and message. The cascade
 * is computed here only to show a rank change at once, and Python's reply (the true state)
 * replaces it. `allowed` (what the person's role may do) only hides controls and refuses at
 * once what Python would refuse: Python asks the server who acts, at every action.
 *
 * `mode` says how the person sees the batch (docs/design.md, decision 12): "solo" (one shared ranking),
 * "blind" (a rater of an open blind panel: takes under opaque ids, shuffled, labelled A, B, C...,
 * only their own ranks), "rater" (the same, with settings) or "lead" (the panel's consensus,
 * read-only, and a Disagreements view where the lead sets a line's final ranks). The board
 * shows what the traits hold; Python decides what they may hold.
 *
 * A batch's lines change (docs/design.md, decision 13): a `stale` take (its line's text changed) is shown
 * struck through and a `removed` one (its line left the script) only with "Show removed"; neither
 * can be ranked, and neither counts in a line's slots or the progress. A line carries a director
 * note (`n`), and more takes of it can be asked for (`g`); the new takes show when they land.
 *
 * @typedef {{file: string, line: string, take_number: number, rank: number|null,
 *   ranked_at: string|null, ranked_by: string|null, settings: Object<string, number|boolean>,
 *   duration_s: number|null, flags: string[], gain_db: number, label?: string,
 *   stale?: boolean, text_was?: string|null, removed?: boolean}} Take
 */
import { create_view_state } from "./view_state.js";
import { create_audio } from "./audio.js";
import { listen } from "./dom.js";
import { create_renderer } from "./renderer.js";
import { create_actions } from "./actions.js";
import { bind_controls, bind_drag_drop } from "./events.js";
import { bind_keys } from "./keys.js";
import { bind_model, start_refresh } from "./protocol.js";
import { start_presence } from "./presence.js";

/** anywidget's render: wires the parts above together; the cleanup undoes all of it. */
function render({ model, el }) {
  const in_voila = Boolean(globalThis.location?.pathname?.includes("/voila/"));
  const state = create_view_state(model);
  const audio = create_audio(model, state, {
    on_change: () => renderer.schedule(),
    on_decoded: (file) => renderer.redraw_take(file),
    on_play: () => renderer.schedule_playhead(),
    on_error: (text) => renderer.show_local(text),
  });
  const renderer = create_renderer(el, model, state, audio);
  const actions = create_actions(model, state, audio, renderer);
  const parts = { model, state, audio, renderer, actions };
  const cleanups = [
    renderer.close,
    audio.close,
    bind_controls(renderer.root, parts),
    bind_keys(renderer.root, parts),
    bind_drag_drop(renderer.root, parts),
    listen(renderer.scroller, { scroll: renderer.schedule }, { passive: true }),
    bind_model(model, parts),
    start_refresh(model, actions),
  ];
  // Presence needs VoiceLab's server (its API answers beside the dashboards), not Jupyter's.
  if (in_voila) cleanups.push(start_presence(renderer.root, model, state));

  state.derive();
  renderer.draw();
  if (state.focused) audio.prefetch(state.focused);
  if (in_voila) renderer.focus();

  return () => {
    for (const cleanup of [...cleanups].reverse()) cleanup();
  };
}

export default { render };

// What tests/js and the shipped module export: the pure helpers and the factories.
export {
  format_duration,
  PANEL_NAME,
  progress_label,
  ranked_label,
  settings_label,
  take_label,
} from "./labels.js";
export {
  apply_pending,
  cascade,
  group_takes,
  has_best,
  is_current,
  line_removed,
  MAX_RANK,
  progress,
  retired,
  retired_message,
  stale_title,
  visible_lines,
} from "./ranks.js";
export { layout, LINE_HEIGHT, step_line, step_take, TAKE_HEIGHT, visible_range } from "./layout.js";
export { gain_factor, Player, position_at, switch_offset } from "./player.js";
export {
  PEAK_POINTS,
  peaks_from_samples,
  stored_peaks,
  WAVE_HEIGHT,
  WAVE_WIDTH,
} from "./waveform.js";
export { audio_url, create_audio } from "./audio.js";
export {
  LEAD_RANK_MESSAGE,
  MORE_LOCKED_MESSAGE,
  PANEL_LINES_MESSAGE,
  refusal,
} from "./refusals.js";
export { create_view_state } from "./view_state.js";
export { listen } from "./dom.js";
export { create_board_root, mark_board } from "./root.js";
export { create_messages, create_toolbar } from "./toolbar.js";
export {
  create_lock_dialog,
  gate_row,
  GATE_SHOWN,
  jump_target,
  lock_question,
} from "./lock_dialog.js";
export {
  agreement_label,
  chosen_raters,
  create_panel_bar,
  create_panel_dialog,
  line_status,
  panel_summary,
  rater_note,
  rater_progress_label,
  rater_ranks,
} from "./panel.js";
export { create_note_editor, note_label } from "./notes.js";
export {
  create_more_dialog,
  estimate_label,
  MAX_MORE,
  more_request,
  pending_label,
  same_request,
} from "./more.js";
export { create_export, export_format, offer_download, preset_layout } from "./export.js";
export { flag_title } from "./rows.js";
export { create_line_list } from "./line_list.js";
export { create_renderer } from "./renderer.js";
export { create_actions } from "./actions.js";
export { bind_controls, bind_drag_drop } from "./events.js";
export { action_for_key, bind_keys } from "./keys.js";
export { bind_model, start_refresh, subscribe } from "./protocol.js";
export { BEAT_MS, new_view_id, presence_label, start_presence } from "./presence.js";
