/**
 * Director notes on a line: the label a line's header shows, and the note editor popover.
 */
import { focus_board, place_popover } from "./dom.js";

/**
 * A line's director note as its header shows it, and its tooltip: "text" and "alice, 2026-03-01
 * 14:05 UTC: text"; both "" without a note. A note with only the flag has no text.
 * @param {{text: string, by: string, at: string, needs_pass: boolean}|undefined} note
 */
export function note_label(note) {
  if (!note) return { text: "", title: "" };
  const when = typeof note.at === "string" ? note.at.replace("T", " ").slice(0, 16) : "";
  const who = [note.by, when && `${when} UTC`].filter(Boolean).join(", ");
  const pass = note.needs_pass ? " (needs another pass)" : "";
  return { text: note.text ?? "", title: `${who}${pass}: ${note.text || "no text"}` };
}

/**
 * The note editor of a line: `open(line)` fills it from the line's note (`notes`), under the
 * line's header, with the focus in the text; `fields()` is what Save sends ({line, text,
 * needs_pass}). Closed by Save, Cancel or Escape (the focus goes back to the board), and hidden
 * once the role may no longer write notes or the line is no longer shown.
 * @param {{querySelector: Function, focus: Function}} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 */
export function create_note_editor(root, model, state) {
  const editor = root.querySelector(".vl-note-editor");
  const title = root.querySelector(".vl-note-title");
  const input = root.querySelector(".vl-note-input");
  const pass = root.querySelector(".vl-note-pass");
  let line = null;
  const open = (which) => {
    if (!which || !state.may("note") || !place_popover(editor, state, which)) return;
    line = which;
    const note = (model.get("notes") ?? {})[which];
    title.textContent = `Director note on ${which}`;
    input.value = note?.text ?? "";
    pass.checked = Boolean(note?.needs_pass);
    editor.dataset.line = which;
    editor.hidden = false;
    input.focus();
  };
  const close = () => {
    editor.hidden = true;
    line = null;
    focus_board(root);
  };
  const fields = () => ({ line, text: input.value, needs_pass: Boolean(pass.checked) });
  const update = () => {
    if (editor.hidden) return;
    if (!state.may("note") || !place_popover(editor, state, line)) close();
  };
  return { open, close, fields, is_open: () => !editor.hidden, update };
}
