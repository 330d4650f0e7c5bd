/**
 * The toolbar (title, progress, View only, Undo, Lock and Unlock, the read-only banner) and the
 * message box and notice under it.
 */
import { progress_label } from "./labels.js";
import { progress } from "./ranks.js";

const NOTICE_MS = 6000;

/**
 * The toolbar's title, progress counter, "View only" mark, Undo, lock and unlock buttons, and
 * the read-only banner below it. A locked board shows "Locked" (disabled) and "Unlock…".
 * Which buttons a role sees is the styles' job (`mark_board`). Its checkboxes act through
 * `bind_controls`; "Export selects" is `create_export`'s.
 * @param {{querySelector: Function}} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 */
export function create_toolbar(root, model, state) {
  const title = root.querySelector(".vl-title");
  const counter = root.querySelector(".vl-progress");
  const banner = root.querySelector(".vl-readonly-banner");
  const lock_button = root.querySelector(".vl-lock-button");
  const unlock_button = root.querySelector(".vl-unlock-button");
  const undo_button = root.querySelector(".vl-undo-button");
  const view_only = root.querySelector(".vl-view-only");
  const show_removed = root.querySelector(".vl-show-removed");
  const update = () => {
    const locked = state.readonly();
    if (show_removed) show_removed.hidden = !state.view.has_removed && !state.show_removed;
    const person = model.get("person") || "unknown";
    const mode = state.mode();
    view_only.title =
      mode === "blind" || mode === "rater"
        ? `${person} is not one of this panel's raters: listening only`
        : `${person} is a ${model.get("role") || "viewer"}: listening only, ranks cannot change here`;
    undo_button.disabled = locked;
    title.textContent = [model.get("skin"), model.get("voice"), model.get("batch_id")]
      .filter(Boolean)
      .join(" · ");
    const { done, total } = progress(state.view.groups, state.view.rank_of);
    counter.dataset.done = String(done);
    counter.dataset.total = String(total);
    counter.textContent = progress_label({ done, total }, mode);
    banner.hidden = !locked;
    lock_button.disabled = locked;
    lock_button.textContent = locked ? "Locked" : "Lock batch…";
    unlock_button.hidden = !locked;
  };
  return { update };
}

/**
 * The message box, showing `state.message()` (a local message, else Python's `error` until
 * dismissed), and the notice, showing Python's `notice` for `notice_ms` after each change.
 * @param {{querySelector: Function}} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 * @returns {{update: Function, show_notice: Function, close: Function}} `close` stops the
 *   notice's timer
 */
export function create_messages(root, model, state, notice_ms = NOTICE_MS) {
  const box = root.querySelector(".vl-message");
  const box_text = root.querySelector(".vl-message-text");
  const notice = root.querySelector(".vl-notice");
  let notice_timer = 0;
  const update = () => {
    const text = state.message();
    box_text.textContent = text;
    box.hidden = !text;
  };
  const show_notice = () => {
    const text = model.get("notice") ?? "";
    notice.textContent = text;
    notice.hidden = !text;
    clearTimeout(notice_timer);
    if (text) notice_timer = setTimeout(() => (notice.hidden = true), notice_ms);
  };
  return { update, show_notice, close: () => clearTimeout(notice_timer) };
}
