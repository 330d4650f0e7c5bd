/**
 * The keys and how-to overlay: `?` or the toolbar's Keys button opens it, Escape, `?`, its Close
 * button or a click beside it closes it. The board keeps the whole viewport for its takes; what
 * each role may do shows only to that role (the styles hide `[data-needs]` parts, as elsewhere).
 */
import { focus_board } from "./dom.js";

/**
 * @param {HTMLElement} root the board's root element
 * @returns {{open: Function, close: Function, toggle: Function, is_open: Function}}
 */
export function create_keys_help(root) {
  const overlay = root.querySelector(".vl-keys");
  const button = root.querySelector(".vl-keys-button");
  const is_open = () => !overlay.hidden;
  const open = () => {
    overlay.hidden = false;
    button.setAttribute("aria-expanded", "true");
    overlay.querySelector(".vl-keys-close").focus({ preventScroll: true });
  };
  const close = () => {
    if (!is_open()) return;
    overlay.hidden = true;
    button.setAttribute("aria-expanded", "false");
    focus_board(root);
  };
  const toggle = () => (is_open() ? close() : open());
  return { open, close, toggle, is_open };
}
