/**
 * The lock dialog: confirming a lock or an unlock, and before a lock the quality gate's lines
 * (`lock_problems`), each with "Go to line"; "Lock anyway" sends `force`.
 */
import { take_label } from "./labels.js";
import { is_current } from "./ranks.js";
import { focus_board, make_node } from "./dom.js";

/** How many of the quality gate's lines the lock dialog lists (the rest are counted). */
export const GATE_SHOWN = 100;

const NO_PROBLEMS = Object.freeze([]);

/**
 * What the lock dialog asks, given the quality gate's `lock_problems` (Python's
 * `ranking.lock_gate`): the plain question on a clean batch, else how many lines need a look.
 * @param {string} batch
 * @param {{line: string}[]} problems
 */
export function lock_question(batch, problems) {
  if (!problems.length) return `Lock batch ${batch}? Ranks can no longer change after this.`;
  const lines = problems.length === 1 ? "1 line needs" : `${problems.length} lines need`;
  return `${lines} a look before batch ${batch} locks: a flagged or stale selected take, or no ` +
    "selection. Lock anyway? The lock records them.";
}

/**
 * One of the gate's lines as the dialog lists it: the line, its problems in words, and which
 * take is selected ("Take 3", its label on the board; "" when none).
 * @param {{line: string, problems: string[], take: string|null, words?: string}} problem
 * @param {Map<string, Take>} take_of the board's takes by key
 */
export function gate_row(problem, take_of) {
  const take = problem.take ? take_of.get(problem.take) : null;
  const words = problem.words || problem.problems.join(", ").replaceAll("_", " ");
  return { line: problem.line, words, take: take ? take_label(take) : problem.take ?? "" };
}

/**
 * Where "Go to line" puts the focus: the line's selected take when it is shown, else its first
 * current take, else its first take; null when the line has none on the board.
 * @param {{line: string, take: string|null}} problem
 * @param {Map<string, Take[]>} groups
 */
export function jump_target(problem, groups) {
  const list = groups.get(problem.line) ?? [];
  if (problem.take && list.some((t) => t.file === problem.take)) return problem.take;
  return (list.find(is_current) ?? list[0])?.file ?? null;
}

/**
 * The lock dialog, confirming a lock or an unlock: `open("lock")` ("Lock batch…", on an open
 * board) or `open("unlock")` ("Unlock…", on a locked board), each only for a role that may, with
 * the focus on its confirm button (Lock or Unlock). Before a lock it lists the quality gate's
 * lines (`lock_problems`: a flagged or stale selected take, or no selection), each with "Go to
 * line", and its confirm button reads "Lock anyway" (`forced()`: the lock then sends `force`);
 * a clean batch asks as before. Closed by the confirm button, Cancel or Escape (the focus goes
 * back to the board), and hidden once there is nothing left to confirm: the batch was locked
 * (or unlocked) meanwhile, or the role lost the right. The list follows `lock_problems` while
 * open. `step(delta)` moves the focus along its buttons (arrow keys).
 * @param {{querySelector: Function, focus: Function}} root the board's root element
 * @param {{get: Function}} model
 * @param {ReturnType<typeof create_view_state>} state
 */
export function create_lock_dialog(root, model, state) {
  const dialog = root.querySelector(".vl-confirm");
  const text = root.querySelector(".vl-confirm-text");
  const list = root.querySelector(".vl-confirm-problems");
  const confirm = {
    lock: root.querySelector(".vl-confirm-lock"),
    unlock: root.querySelector(".vl-confirm-unlock"),
  };
  let mode = "lock";
  let shown = []; // the gate's lines the open dialog lists
  /** Whether `action` (lock or unlock) is one the board can offer now. */
  const offered = (action) => state.may(action) && state.readonly() === (action === "unlock");
  const problems = () => (mode === "lock" ? model.get("lock_problems") ?? NO_PROBLEMS : NO_PROBLEMS);
  const fill = () => {
    shown = problems();
    const batch = model.get("batch_id");
    text.textContent =
      mode === "lock"
        ? lock_question(batch, shown)
        : `Unlock batch ${batch}? Ranks can change again; the unlock is recorded.`;
    confirm.lock.textContent = shown.length ? "Lock anyway" : "Lock";
    dialog.classList?.toggle("vl-confirm-gate", shown.length > 0);
    if (!list) return;
    list.hidden = !shown.length;
    list.replaceChildren?.();
    const take_of = state.view?.take_of ?? new Map();
    for (const problem of shown.slice(0, GATE_SHOWN)) {
      const { line, words, take } = gate_row(problem, take_of);
      const item = make_node("li", "vl-gate-problem");
      item.dataset.line = line;
      item.append(make_node("span", "vl-gate-line", line), make_node("span", "vl-gate-words", words),
        make_node("span", "vl-gate-take", take));
      const jump = make_node("button", "vl-gate-jump", "Go to line");
      jump.type = "button";
      jump.dataset.line = line;
      jump.title = `Close this and go to line ${line}`;
      item.append(jump);
      list.append(item);
    }
    if (shown.length > GATE_SHOWN) {
      list.append(make_node("li", "vl-gate-more", `…and ${shown.length - GATE_SHOWN} more lines`));
    }
  };
  const open = (action = "lock") => {
    if (!(action in confirm) || !offered(action)) return;
    mode = action;
    fill();
    confirm.lock.hidden = action !== "lock";
    confirm.unlock.hidden = action !== "unlock";
    dialog.hidden = false;
    confirm[action].focus();
  };
  const close = () => {
    dialog.hidden = true;
    focus_board(root);
  };
  const update = () => {
    if (!offered(mode)) dialog.hidden = true;
    else if (!dialog.hidden && problems() !== shown) {
      const in_list = Boolean(list?.contains?.(globalThis.document?.activeElement));
      fill(); // the gate's lines changed meanwhile (ranked elsewhere, a check landed)
      if (in_list) confirm.lock.focus();
    }
  };
  /** The gate's line named `line` in the open dialog's list (for "Go to line"). */
  const problem_of = (line) => shown.find((p) => p.line === line) ?? { line, take: null };
  /** Move the focus `delta` buttons along the dialog's shown buttons (wrapping). */
  const step = (delta) => {
    const buttons = [...(dialog.querySelectorAll?.("button") ?? [])].filter((b) => !b.hidden);
    if (!buttons.length) return;
    const at = buttons.indexOf(globalThis.document?.activeElement);
    buttons[(at + delta + buttons.length) % buttons.length].focus();
  };
  return {
    open, close, update, step, problem_of,
    is_open: () => !dialog.hidden,
    forced: () => mode === "lock" && shown.length > 0,
    confirm: () => confirm[mode].click(),
  };
}
