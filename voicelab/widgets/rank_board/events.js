/**
 * Clicks, checkbox changes and drag and drop on the board; each binder returns its cleanup.
 */
import { retired_message } from "./ranks.js";
import { listen } from "./dom.js";

/**
 * Clicks and checkbox changes on the board: toolbar (lock, unlock, undo, export, "Rate as a
 * panel…", Keys), the keys overlay, the lock dialog's Lock, Unlock and Cancel, the panel
 * dialog's Open and Cancel, the Disagreements toggle and a line's Close/Reopen, slots, rows,
 * waveforms.
 */
export function bind_controls(root, { model, state, audio, renderer, actions }) {
  const on_click = (event) => {
    const target = event.target;
    const hit = (selector) => target.closest(selector);
    if (hit(".vl-keys-button") || hit(".vl-keys-close")) return renderer.toggle_keys();
    if (renderer.keys_open?.()) {
      if (!hit(".vl-keys-box")) renderer.close_keys(); // a click beside the overlay's box
      return;
    }
    if (hit(".vl-panel-button")) return renderer.open_panel_dialog();
    if (hit(".vl-panel-open")) {
      if (actions.open_panel(renderer.panel_choice())) renderer.close_panel_dialog();
      return;
    }
    if (hit(".vl-panel-cancel")) return renderer.close_panel_dialog();
    if (hit(".vl-panel-dialog")) return; // its checkboxes and text field keep the focus
    if (hit(".vl-note-button")) return actions.open_note(hit(".vl-note-button").dataset.line);
    if (hit(".vl-more-button")) return actions.open_more(hit(".vl-more-button").dataset.line);
    if (hit(".vl-note-save")) return actions.save_note();
    if (hit(".vl-note-cancel")) return renderer.note_editor.close();
    if (hit(".vl-more-submit")) return actions.ask_more();
    if (hit(".vl-more-cancel")) return renderer.more_dialog.close();
    if (hit(".vl-popover")) return; // its fields keep the focus
    if (hit(".vl-disagreements-button")) {
      actions.toggle_disagreements();
      return renderer.focus();
    }
    if (hit(".vl-line-close")) {
      actions.close_line(hit(".vl-line-close").dataset.line);
      return renderer.focus();
    }
    if (hit(".vl-line-reopen")) {
      actions.reopen_line(hit(".vl-line-reopen").dataset.line);
      return renderer.focus();
    }
    if (hit(".vl-lock-button")) return renderer.open_confirm("lock");
    if (hit(".vl-unlock-button")) return renderer.open_confirm("unlock");
    if (hit(".vl-undo-button")) {
      actions.undo();
      renderer.focus();
      return;
    }
    if (hit(".vl-gate-jump")) {
      const problem = renderer.gate_problem(hit(".vl-gate-jump").dataset.line);
      renderer.close_confirm();
      return actions.go_to_line(problem);
    }
    if (hit(".vl-confirm-lock")) {
      actions.lock({ force: Boolean(renderer.confirm_forced?.()) });
      return renderer.close_confirm();
    }
    if (hit(".vl-confirm-unlock")) {
      actions.unlock();
      return renderer.close_confirm();
    }
    if (hit(".vl-confirm-cancel")) return renderer.close_confirm();
    if (hit(".vl-export-button")) return renderer.open_export();
    if (hit(".vl-export-start")) {
      renderer.start_export();
      actions.export_selects(renderer.export_choice());
      return renderer.close_export();
    }
    if (hit(".vl-export-cancel")) return renderer.close_export();
    if (hit(".vl-export-dialog")) return; // its selects keep the focus
    if (hit(".vl-message-close")) {
      state.dismiss_message();
      renderer.schedule();
      return;
    }
    if (hit("input, label")) return;
    const clear = hit(".vl-slot-clear");
    if (clear) {
      actions.send_rank(clear.dataset.file, null);
    } else if (hit(".vl-slot-take")) {
      actions.set_focus(hit(".vl-slot-take").dataset.dragFile);
    } else if (hit(".vl-line-text")) {
      const list = state.view.groups.get(hit(".vl-line").dataset.line) ?? [];
      if (list.length) actions.set_focus(list[0].file);
    } else if (hit(".vl-take")) {
      const file = hit(".vl-take").dataset.file;
      const wave = hit(".vl-wave");
      if (hit(".vl-play")) {
        state.focused = file;
        audio.toggle();
      } else if (wave) {
        state.focused = file;
        const box = wave.getBoundingClientRect();
        const share = Math.min(1, Math.max(0, (event.clientX - box.left) / (box.width || 1)));
        const take = state.view.take_of.get(file);
        audio.play(file, share * (take?.duration_s ?? audio.decoded_duration.get(file) ?? 0));
      } else {
        actions.set_focus(file);
      }
      renderer.schedule();
    }
    renderer.focus();
  };

  const on_change = (event) => {
    const target = event.target;
    if (target.closest?.(".vl-panel-dialog")) return; // the dialog's choices: nothing to redraw
    if (target.closest?.(".vl-export-dialog")) return renderer.export_changed?.();
    if (target.closest?.(".vl-more-dialog")) return actions.more_changed?.();
    if (target.closest?.(".vl-note-editor")) return;
    if (target.matches(".vl-show-removed-toggle")) {
      state.set_show_removed(target.checked);
    } else if (target.matches(".vl-filter-unranked")) {
      state.filter_unranked(target.checked);
      renderer.scroll_to_top();
    } else if (target.matches(".vl-loop-toggle")) {
      audio.set_loop(target.checked);
    } else if (target.matches(".vl-loudness-toggle")) {
      state.matched = target.checked;
      audio.regain();
    }
    renderer.focus();
    renderer.schedule();
  };

  /** Typing in the "more takes" dialog: the estimate follows (the change event comes late). */
  const on_input = (event) => {
    if (event.target.closest?.(".vl-more-dialog")) actions.more_changed?.();
  };

  return listen(root, { click: on_click, change: on_change, input: on_input });
}

/**
 * Drag a take (its row or its slot chip) onto a rank slot of its own line to rank it (a lead,
 * in Disagreements: to set its final rank). A role that may not rank gets no drag: trying one
 * says why, at once; a lead's normal view (the consensus) has nothing to drag.
 */
export function bind_drag_drop(root, { state, renderer, actions }) {
  const slot_for = (event) => {
    const slot = event.target.closest?.(".vl-slot");
    if (!slot || !state.dragging || state.readonly()) return null;
    return slot.dataset.line === state.line_of(state.dragging) ? slot : null;
  };
  /** The action a drop sends (rank, or a lead's override), if the person may do it. */
  const drag_action = () => ({ rank: "rank", override: "panel" })[state.rank_kind()];
  const on_drag_start = (event) => {
    const source = event.target.closest?.("[data-drag-file]");
    const action = drag_action();
    const why = source ? retired_message(state.view.take_of.get(source.dataset.dragFile)) : "";
    if (why) renderer.show_local(why);
    else if (source && !state.readonly() && action && !state.may(action)) actions.refuse(action);
    if (!source || why || state.readonly() || !action || !state.may(action)) {
      event.preventDefault();
      return;
    }
    state.dragging = source.dataset.dragFile;
    event.dataTransfer.setData("text/plain", state.dragging);
    event.dataTransfer.effectAllowed = "move";
    root.classList.add("vl-dragging");
  };
  const on_drag_over = (event) => {
    const slot = slot_for(event);
    if (!slot) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    slot.classList.add("vl-drop-target");
  };
  const on_drag_leave = (event) => {
    const slot = event.target.closest?.(".vl-slot");
    if (slot && !slot.contains(event.relatedTarget)) slot.classList.remove("vl-drop-target");
  };
  const end_drag = () => {
    state.dragging = null;
    root.classList.remove("vl-dragging");
    for (const slot of root.querySelectorAll(".vl-drop-target")) slot.classList.remove("vl-drop-target");
    renderer.schedule();
  };
  const on_drop = (event) => {
    const slot = slot_for(event);
    if (!slot) return;
    event.preventDefault();
    const file = state.dragging;
    end_drag();
    actions.send_rank(file, Number(slot.dataset.rank));
    actions.set_focus(file, { follow: false });
  };
  return listen(root, {
    ...{ dragstart: on_drag_start, dragover: on_drag_over, dragleave: on_drag_leave },
    ...{ drop: on_drop, dragend: end_drag },
  });
}
