/**
 * The board's keys: what a key press does (`action_for_key`, pure), and the key binder, where an
 * open dialog or popover comes first.
 */
import { step_line, step_take } from "./layout.js";
import { listen } from "./dom.js";

/**
 * What a key press does on the board, or null for keys the board leaves alone. Ctrl+Z (and
 * Cmd+Z) undo like `u`; every other key with a modifier is left to the browser.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean,
 *   shiftKey?: boolean}} event
 */
export function action_for_key(event) {
  const key = event.key;
  if (event.ctrlKey || event.metaKey || event.altKey) {
    const undo = (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey;
    return undo && (key === "z" || key === "Z") ? { type: "undo" } : null;
  }
  if (/^[1-5]$/.test(key)) return { type: "rank", rank: Number(key) };
  switch (key) {
    case "0":
    case "Backspace":
    case "Delete":
      return { type: "rank", rank: null };
    case "ArrowUp":
    case "k":
      return { type: "take", delta: -1 };
    case "ArrowDown":
    case "j":
      return { type: "take", delta: 1 };
    case "ArrowLeft":
    case "h":
      return { type: "line", delta: -1 };
    case "ArrowRight":
    case "l":
      return { type: "line", delta: 1 };
    case " ":
    case "Spacebar":
      return { type: "toggle" };
    case "Enter":
      return { type: "play_next" };
    case "u":
      return { type: "undo" };
    case "d":
      return { type: "disagreements" };
    case "c":
      return { type: "close_line" };
    case "n":
      return { type: "note" };
    case "g":
      return { type: "more" };
    case "?":
      return { type: "keys" };
    default:
      return null;
  }
}

/**
 * Keys while a line's popover is open: Escape closes it, Ctrl+Enter (Cmd+Enter) saves the note,
 * Enter in a field of the "more takes" dialog asks (once its estimate shows); every other key
 * is the fields'. True when a popover is open (the board's own keys then do nothing).
 */
function popover_key(event, renderer, actions) {
  const note = renderer.note_editor;
  const more = renderer.more_dialog;
  const open = note?.is_open() ? note : more?.is_open() ? more : null;
  if (!open) return false;
  const save = event.key === "Enter" && (event.ctrlKey || event.metaKey);
  if (event.key === "Escape") open.close();
  else if (open === note && save) actions.save_note();
  else if (open === more && event.key === "Enter" && event.target.matches?.("input")) actions.ask_more();
  else return true;
  event.preventDefault();
  event.stopPropagation();
  return true;
}

/**
 * The board's keys (`action_for_key`); typing in a text field and the open dialog (lock, "Rate
 * as a panel", a line's note or more takes, the keys overlay) come first: there only Escape
 * (and a popover's save keys, and `?` on the keys overlay) count.
 */
export function bind_keys(root, { state, audio, renderer, actions }) {
  const on_key = (event) => {
    const target = event.target;
    if (popover_key(event, renderer, actions)) return;
    if (renderer.keys_open?.()) {
      if (event.key !== "Escape" && event.key !== "?") return; // Enter or Space: its Close button
      renderer.close_keys();
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (renderer.export_open?.()) {
      if (event.key === "Enter" && target.matches("button")) return; // the button's own click
      if (event.key === "Escape") renderer.close_export();
      else if (event.key === "Enter") {
        renderer.start_export();
        actions.export_selects(renderer.export_choice());
        renderer.close_export();
      } else return;
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (renderer.panel_dialog_open?.()) {
      if (event.key === "Escape") renderer.close_panel_dialog();
      return;
    }
    if (target.matches("input[type=text], input[type=search], textarea, select")) return;
    if (renderer.confirm_open()) {
      const key = event.key;
      if (key === "Enter" && target.matches("button")) return; // the focused button's own click
      if (key === "Escape") renderer.close_confirm();
      else if (key === "Enter") renderer.confirm?.();
      else if (key === "ArrowDown" || key === "ArrowUp") renderer.confirm_step?.(key === "ArrowDown" ? 1 : -1);
      else return;
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (target.matches("button, input") && (event.key === " " || event.key === "Enter")) return;
    const action = action_for_key(event);
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    const { order, lines, groups } = state.view;
    if (action.type === "rank") actions.send_rank(state.focused, action.rank);
    else if (action.type === "undo") actions.undo();
    else if (action.type === "disagreements") actions.toggle_disagreements?.();
    else if (action.type === "close_line") actions.toggle_line?.();
    else if (action.type === "note") actions.open_note?.();
    else if (action.type === "more") actions.open_more?.();
    else if (action.type === "keys") renderer.toggle_keys?.();
    else if (action.type === "take") actions.set_focus(step_take(order, state.focused, action.delta));
    else if (action.type === "line") {
      actions.set_focus(step_line(lines, groups, state.line_of(state.focused), action.delta));
    } else if (action.type === "toggle") audio.toggle();
    else if (action.type === "play_next" && state.focused) {
      audio.play(state.focused, 0);
      actions.set_focus(step_take(order, state.focused, 1), { follow: false });
    }
    renderer.schedule();
  };
  return listen(root, { keydown: on_key });
}
