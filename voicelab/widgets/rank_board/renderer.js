/**
 * The board's DOM: the parts (root, toolbar, dialogs, panel bar, export, messages, line list)
 * composed, drawn at most once per animation frame.
 *
 * Each part owns one area of TEMPLATE under the board's root element, takes what it reads as
 * arguments, and returns its `update` (called only from the renderer's once-per-frame `draw`) and
 * whatever else the renderer passes on. None of them listens to events: `bind_controls` and
 * `bind_keys` call them through the renderer.
 */
import { focus_board } from "./dom.js";
import { create_board_root, mark_board } from "./root.js";
import { create_messages, create_toolbar } from "./toolbar.js";
import { create_lock_dialog } from "./lock_dialog.js";
import { create_panel_bar, create_panel_dialog } from "./panel.js";
import { create_note_editor } from "./notes.js";
import { create_more_dialog } from "./more.js";
import { create_export } from "./export.js";
import { create_keys_help } from "./keys_help.js";
import { create_line_list } from "./line_list.js";

/**
 * The board's DOM under `el`: the parts above, composed. Draws from `state.view`, the traits
 * and the player, at most once per animation frame (`schedule`); while a take plays, the
 * playhead moves on its own frames (`schedule_playhead`).
 * @param {HTMLElement} el the element anywidget gives `render`
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 * @param {ReturnType<typeof create_audio>} audio
 */
export function create_renderer(el, model, state, audio) {
  const root = create_board_root(el);
  const toolbar = create_toolbar(root, model, state);
  const dialog = create_lock_dialog(root, model, state);
  const panel_bar = create_panel_bar(root, model, state);
  const panel_dialog = create_panel_dialog(root, model, state);
  const note_editor = create_note_editor(root, model, state);
  const more_dialog = create_more_dialog(root, model, state);
  const exporter = create_export(root, state, model);
  const keys_help = create_keys_help(root);
  const messages = create_messages(root, model, state);
  const list = create_line_list(root, model, state, audio);
  const { player } = audio;
  let frame = 0;
  let playhead_frame = 0;

  const draw_playhead = () => {
    playhead_frame = 0;
    list.update_playhead();
    if (player.playing) schedule_playhead();
  };
  const schedule_playhead = () => {
    if (!playhead_frame) playhead_frame = requestAnimationFrame(draw_playhead);
  };

  const draw = () => {
    frame = 0;
    mark_board(root, model, state, player);
    for (const part of [toolbar, panel_bar, dialog, panel_dialog, exporter, messages, list]) part.update();
    note_editor.update(); // after the rows: they place it
    more_dialog.update();
    draw_playhead();
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  const show_local = (text) => {
    state.local_message = text;
    schedule();
  };

  const close = () => {
    messages.close();
    cancelAnimationFrame(frame);
    cancelAnimationFrame(playhead_frame);
    root.remove();
  };

  const { scroller, ensure_visible, redraw_take, redraw_waves, scroll_to_top, anchor, restore } = list;
  /** Open a line's popover (the other one closes), its line's header in view. */
  const popover = (part, other) => (line) => {
    other.is_open() && other.close();
    const first = state.view.groups.get(line)?.[0];
    if (first) ensure_visible(first.file);
    part.open(line);
  };
  return {
    ...{ anchor, restore, note_editor, more_dialog },
    open_note: popover(note_editor, more_dialog),
    open_more: popover(more_dialog, note_editor),
    ...{ root, scroller, draw, schedule, schedule_playhead, ensure_visible, redraw_take, redraw_waves },
    ...{ show_local, show_notice: messages.show_notice, focus: () => focus_board(root) },
    ...{ open_confirm: dialog.open, close_confirm: dialog.close, confirm_open: dialog.is_open },
    ...{ confirm_forced: dialog.forced, confirm: dialog.confirm, confirm_step: dialog.step },
    gate_problem: dialog.problem_of,
    ...{ open_panel_dialog: panel_dialog.open, close_panel_dialog: panel_dialog.close },
    ...{ panel_dialog_open: panel_dialog.is_open, panel_choice: panel_dialog.chosen },
    ...{ start_export: exporter.start, show_export: exporter.show, scroll_to_top, close },
    ...{ open_export: exporter.open, close_export: exporter.close, export_open: exporter.is_open },
    ...{ toggle_keys: keys_help.toggle, close_keys: keys_help.close, keys_open: keys_help.is_open },
    ...{ export_changed: exporter.changed, export_choice: exporter.choice },
  };
}
