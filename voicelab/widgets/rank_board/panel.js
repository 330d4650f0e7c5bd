/**
 * Rating panels (docs/design.md, decision 12): the labels of a panel's state, the panel bar (a lead's
 * summary and raters' progress, a rater's note, the Disagreements toggle) and the "Rate as a
 * panel" dialog.
 */
import { focus_board, make_node } from "./dom.js";

/** Kendall's W of a line as the Disagreements view shows it: "W 0.42", "W –" (one rater). */
export function agreement_label(agreement) {
  return typeof agreement === "number" ? `W ${agreement.toFixed(2)}` : "W –";
}

/** A panel line's state for the lead: "open", "closed by lena", "final ranks by lena". */
export function line_status(line) {
  if (!line?.closed) return "open";
  return line.override ? `final ranks by ${line.closed_by}` : `closed by ${line.closed_by}`;
}

/**
 * Each rater's rank of one take, in the panel's rater order: [{name, rank}] (rank null when
 * that rater left it unranked), for the Disagreements view.
 * @param {{raters: string[]}} panel the `panel` trait
 * @param {{ranks_by: Object<string, Object<string, number>>}} line one of `panel.lines`
 */
export function rater_ranks(panel, line, file) {
  return (panel?.raters ?? []).map((name) => ({ name, rank: line?.ranks_by?.[name]?.[file] ?? null }));
}

/** "alice 2/4 lines": one rater's progress, as the lead's panel bar shows it. */
export function rater_progress_label(name, { done = 0, total = 0 } = {}) {
  return `${name} ${done}/${total}`;
}

/** What the panel bar says on a rater's board (nothing of the other raters). */
export function rater_note(mode) {
  if (mode === "blind") {
    return "Blind panel: you rank alone. Takes are shuffled and labelled; settings, take numbers and other raters' ranks are hidden.";
  }
  if (mode === "rater") return "Panel: you rank alone; other raters' ranks and the consensus are hidden.";
  return "";
}

/** The lead's panel bar summary: "Blind panel of 3 · Borda consensus · opened by lena". */
export function panel_summary(panel) {
  if (!panel?.raters) return "";
  const method = panel.method === "borda" ? "Borda consensus" : `${panel.method} consensus`;
  const parts = [`${panel.blind ? "Blind panel" : "Panel"} of ${panel.raters.length}`, method];
  if (panel.opened_by) parts.push(`opened by ${panel.opened_by}`);
  return parts.join(" · ");
}

/**
 * The raters a "Rate as a panel" dialog asks for: the names ticked, then those typed
 * (comma-separated), each once, in that order.
 * @param {string[]} ticked
 * @param {string} typed
 */
export function chosen_raters(ticked, typed) {
  const names = [...ticked, ...String(typed ?? "").split(",").map((n) => n.trim())];
  return [...new Set(names.filter(Boolean))];
}

/**
 * The panel bar under the toolbar and "Rate as a panel…" in it. On a lead's board: the panel
 * (blind or not, method, who opened it), every rater's progress (lines ranked of all) and the
 * Disagreements toggle (`aria-pressed`). On a rater's board: a note that they rank alone, and
 * what is hidden (nothing of the other raters). Hidden on a solo board, which offers "Rate as
 * a panel…" instead (to leads, on an open batch: the styles hide it from the others).
 * @param {{querySelector: Function}} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 */
export function create_panel_bar(root, model, state) {
  const bar = root.querySelector(".vl-panel-bar");
  const summary = root.querySelector(".vl-panel-summary");
  const raters = root.querySelector(".vl-panel-raters");
  const toggle = root.querySelector(".vl-disagreements-button");
  const open_button = root.querySelector(".vl-panel-button");
  const update = () => {
    const mode = state.mode();
    const panel = model.get("panel") ?? {};
    open_button.hidden = !(mode === "solo" && !state.readonly());
    bar.hidden = mode === "solo";
    bar.dataset.mode = mode;
    const lead = mode === "lead";
    summary.textContent = lead ? panel_summary(panel) : rater_note(mode);
    toggle.hidden = !lead;
    toggle.setAttribute("aria-pressed", String(state.disagreements));
    toggle.textContent = state.disagreements ? "All lines" : "Disagreements";
    const progress_of = lead ? panel.progress ?? {} : {};
    const names = lead ? panel.raters ?? [] : [];
    const key = names.map((n) => rater_progress_label(n, progress_of[n])).join(" ");
    if (raters.dataset.key === key) return;
    raters.dataset.key = key;
    raters.replaceChildren(
      ...names.map((name) => {
        const { done = 0, total = 0 } = progress_of[name] ?? {};
        const chip = make_node("span", "vl-rater-progress", rater_progress_label(name, { done, total }));
        Object.assign(chip.dataset, { rater: name, done: String(done), total: String(total) });
        chip.dataset.complete = String(total > 0 && done >= total);
        chip.title = `${name} has ranked ${done} of ${total} lines`;
        return chip;
      }),
    );
  };
  return { update };
}

/**
 * The "Rate as a panel" dialog: `open()` (a lead, on an open solo batch) lists the users who
 * may rate (`raters_offered`) as checkboxes, a text field for more names, and Blind (on by
 * default), with the focus on the first choice; `chosen()` is what Open sends ({raters,
 * blind}). Closed by Open, Cancel or Escape (the focus goes back to the board), and hidden
 * once it is no longer offered (a panel opened elsewhere, the batch locked, the role lost).
 * @param {{querySelector: Function, focus: Function}} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 */
export function create_panel_dialog(root, model, state) {
  const dialog = root.querySelector(".vl-panel-dialog");
  const title = root.querySelector(".vl-panel-dialog-title");
  const choices = root.querySelector(".vl-panel-choices");
  const names = root.querySelector(".vl-panel-names");
  const blind = root.querySelector(".vl-panel-blind");
  const offered = () => state.may("panel") && state.mode() === "solo" && !state.readonly();
  const open = () => {
    if (!offered()) return;
    title.textContent = `Rate batch ${model.get("batch_id")} as a panel`;
    const users = model.get("raters_offered") ?? [];
    const boxes = users.map((name) => {
      const label = make_node("label", "vl-panel-choice");
      const box = make_node("input", "vl-panel-rater");
      box.type = "checkbox";
      box.value = name;
      label.append(box, document.createTextNode(` ${name}`));
      return label;
    });
    choices.replaceChildren(make_node("legend", "", "Raters"), ...boxes);
    choices.hidden = !users.length;
    names.value = "";
    blind.checked = true;
    dialog.hidden = false;
    (choices.querySelector("input") ?? names).focus();
  };
  const chosen = () => {
    const ticked = [...choices.querySelectorAll("input.vl-panel-rater")].filter((b) => b.checked);
    return { raters: chosen_raters(ticked.map((b) => b.value), names.value), blind: Boolean(blind.checked) };
  };
  const close = () => {
    dialog.hidden = true;
    focus_board(root);
  };
  const update = () => {
    if (!offered()) dialog.hidden = true;
  };
  return { open, close, chosen, is_open: () => !dialog.hidden, update };
}
