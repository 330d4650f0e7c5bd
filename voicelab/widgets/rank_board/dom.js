/**
 * Small DOM helpers the board's parts share: make a node, focus the board, place a line's
 * popover, listen to events with a cleanup.
 */
import { LINE_HEIGHT } from "./layout.js";

/** A new element: `tag`, with the class `cls` and the text `text` when given. */
export function make_node(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Keyboard focus back on the board (not a button), without scrolling the page. */
export const focus_board = (root) => root.focus({ preventScroll: true });

/**
 * Put a line's popover (note editor, "more takes" dialog) just under the line's header, over its
 * takes; false when the line is not shown (filtered out), so the popover closes.
 */
export function place_popover(popover, state, line) {
  const index = state.view.row_index.get(`L:${line}`);
  if (index === undefined) return false;
  popover.style.top = `${state.view.rows[index].top + LINE_HEIGHT}px`;
  return true;
}

/** Add `handlers` ({event type: listener}) to a DOM event target; returns the cleanup. */
export function listen(target, handlers, options) {
  const entries = Object.entries(handlers);
  for (const [type, handler] of entries) target.addEventListener(type, handler, options);
  return () => {
    for (const [type, handler] of entries) target.removeEventListener(type, handler, options);
  };
}
