// node --test over the ranking board's parts for a batch's lines over time (issue 15): stale
// and removed takes, director notes, more takes of a line. Plain fake objects, no DOM.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  action_for_key,
  bind_keys,
  create_actions,
  create_more_dialog,
  create_note_editor,
  create_view_state,
  estimate_label,
  has_best,
  is_current,
  line_removed,
  MORE_LOCKED_MESSAGE,
  more_request,
  note_label,
  PANEL_LINES_MESSAGE,
  pending_label,
  progress,
  refusal,
  retired,
  retired_message,
  same_request,
  stale_title,
  visible_lines,
} from "../../voicelab/widgets/rank_board/index.js";

const take = (file, line, take_number, rank = null, extra = {}) => ({ file, line, take_number, rank, ...extra });
const ALLOWED = {
  viewer: ["listen"],
  designer: ["listen", "rank", "undo", "note", "more"],
};

/** An anywidget model: traits to `get`, `send` recorded. */
function fake_model(traits) {
  return {
    traits,
    sent: [],
    get: (name) => traits[name],
    send(msg) {
      this.sent.push(msg);
    },
  };
}

/**
 * Line A: a1 stale (its rank cleared), a2 (rank 1), a3. Line B's takes are all removed, b1
 * keeping its rank 1. Line C: c1. The board acts for a designer.
 */
function traits(extra = {}) {
  return {
    takes: [
      take("a1", "A", 1, null, { stale: true, text_was: "Old words." }),
      take("a2", "A", 2, 1),
      take("a3", "A", 3),
      take("b1", "B", 1, 1, { removed: true }),
      take("b2", "B", 2, null, { removed: true }),
      take("c1", "C", 1),
    ],
    lines: [
      { line: "A", script_text: "New words.", removed: false },
      { line: "B", script_text: "Gone.", removed: true },
      { line: "C", script_text: "See.", removed: false },
    ],
    locked: false,
    error: "",
    person: "dana",
    role: "designer",
    allowed: ALLOWED.designer,
    notes: { C: { text: "Softer", by: "lena", at: "2026-03-01T14:05:09Z", needs_pass: true } },
    pending: {},
    ...extra,
  };
}

function recorder(names) {
  const calls = Object.fromEntries(names.map((n) => [n, []]));
  const object = { calls };
  for (const name of names) object[name] = (...args) => calls[name].push(args);
  return object;
}

const fake_node = (fields = {}) => ({
  hidden: true,
  textContent: "",
  value: "",
  checked: false,
  disabled: false,
  dataset: {},
  style: {},
  focused: 0,
  focus() {
    this.focused += 1;
  },
  ...fields,
});

function fake_root(nodes) {
  return {
    nodes,
    focused: [],
    querySelector: (selector) => nodes[selector] ?? null,
    focus(options) {
      this.focused.push(options);
    },
  };
}

// --- pure helpers ----------------------------------------------------------------------------

test("retired: a stale take, a removed one, a current one; and why a rank on it does nothing", () => {
  const stale = take("a1", "A", 1, null, { stale: true, text_was: "Old words." });
  assert.equal(retired(stale), "stale");
  assert.equal(retired({ removed: true }), "removed");
  assert.equal(retired(take("a2", "A", 2)), "");
  assert.equal(is_current(stale), false);
  assert.equal(stale_title(stale), "text was: “Old words.”");
  assert.equal(stale_title({ stale: true }), "its line's text changed");
  assert.equal(retired_message(stale),
    "Take 1 is stale: its line's text changed (text was: “Old words.”). Rank its new takes.");
  assert.equal(retired_message({ removed: true, label: "B" }),
    "Take B is removed: its line is gone from the script.");
  assert.equal(retired_message(take("a2", "A", 2)), "");
  assert.equal(retired_message(undefined), "");
});

test("progress and the best take count current takes only; removed lines leave the total", () => {
  const state = create_view_state(fake_model(traits()));
  state.set_show_removed(true);
  const { groups, rank_of } = state.view;
  assert.equal(line_removed(groups.get("B")), true);
  assert.equal(line_removed([]), false, "a line with no takes is not removed");
  assert.equal(has_best(groups.get("A"), rank_of), true);
  assert.equal(has_best(groups.get("B"), rank_of), false, "b1's kept rank 1 does not count");
  assert.deepEqual(progress(groups, rank_of), { done: 1, total: 2 });
  assert.deepEqual(visible_lines(groups, rank_of, true, new Set()), ["C"], "unranked only");
  const stale_ranked = new Map([["a1", 1]]);
  assert.equal(has_best([take("a1", "A", 1, 1, { stale: true })], stale_ranked), false);
});

test("note_label: the text, and who wrote it when on hover; nothing without a note", () => {
  assert.deepEqual(note_label(undefined), { text: "", title: "" });
  assert.deepEqual(note_label({ text: "Softer", by: "lena", at: "2026-03-01T14:05:09Z", needs_pass: true }),
    { text: "Softer", title: "lena, 2026-03-01 14:05 UTC (needs another pass): Softer" });
  assert.deepEqual(note_label({ text: "", by: "dana", needs_pass: true }),
    { text: "", title: "dana (needs another pass): no text" });
});

test("more_request: how many 1-20, like the #1 or the ranges, an edited text or none", () => {
  assert.deepEqual(more_request({ takes: "3", like: "1", text: "Same." }, "Same."),
    { takes: 3, like: 1, text: null });
  assert.deepEqual(more_request({ takes: 20, like: "ranges", text: "  New words. " }, "Old."),
    { takes: 20, like: null, text: "New words." });
  for (const takes of ["0", "21", "2.5", "", "x"]) {
    assert.equal(more_request({ takes, like: "1", text: "" }, "Old.").takes, null, takes);
  }
  assert.equal(more_request({ takes: 2, like: "1", text: "   " }, "Old.").text, null, "empty: as it is");
  const a = { line: "A", takes: 3, like: 1, text: null };
  assert.equal(same_request(a, { ...a }), true);
  assert.equal(same_request(a, { ...a, takes: 4 }), false);
  assert.equal(same_request(a, null), false);
});

test("estimate_label: takes, requests, characters, then the quota share or why it is not known", () => {
  const base = { takes: 3, requests: 3, characters: 126 };
  assert.equal(estimate_label({ ...base, quota: null }),
    "3 takes · 3 requests · 126 characters · no quota (a local engine)");
  assert.equal(estimate_label({ ...base, quota: { remaining: 30000, share: 0.0042, enough: true } }),
    "3 takes · 3 requests · 126 characters · 0.4 % of the 30,000 characters left");
  assert.equal(estimate_label({ takes: 1, requests: 1, characters: 1,
    quota: { remaining: 0, share: null, enough: false } }),
  "1 take · 1 request · 1 character · not enough: all of the 0 characters left");
  assert.equal(estimate_label({ ...base, quota: { error: "timed out" }, text_changed: true }),
    "3 takes · 3 requests · 126 characters · quota not known: timed out · the line's current takes go stale");
  assert.equal(estimate_label(null), "");
});

test("pending_label, the n and g keys, and why notes and more takes are refused", () => {
  assert.equal(pending_label(5), "5 takes coming");
  assert.equal(pending_label(1), "1 take coming");
  assert.equal(pending_label(undefined), "takes coming");
  assert.deepEqual(action_for_key({ key: "n" }), { type: "note" });
  assert.deepEqual(action_for_key({ key: "g" }), { type: "more" });
  assert.equal(action_for_key({ key: "g", ctrlKey: true }), null);
  assert.equal(refusal("viewer", "note"), "View only: a viewer cannot write director notes.");
  assert.equal(refusal("viewer", "more"), "View only: a viewer cannot ask for more takes.");
  assert.equal(refusal("designer", "note", "blind"), PANEL_LINES_MESSAGE);
  assert.equal(refusal("designer", "more", "rater"), PANEL_LINES_MESSAGE);
});

// --- view state and actions --------------------------------------------------------------------

test("view state: removed takes and lines are hidden until Show removed; ranks still cascade", () => {
  const state = create_view_state(fake_model(traits()), { view_id: "v" });
  state.derive();
  assert.deepEqual(state.view.lines, ["A", "C"]);
  assert.deepEqual(state.view.order, ["a1", "a2", "a3", "c1"]);
  assert.equal(state.view.has_removed, true);
  assert.equal(state.view.text_of.get("A"), "New words.", "the line's current text");
  assert.equal(state.view.rank_of.get("b1"), 1, "a removed take keeps its rank");
  state.set_show_removed(true);
  assert.deepEqual(state.view.lines, ["A", "B", "C"]);
  assert.deepEqual(state.view.order, ["a1", "a2", "a3", "b1", "b2", "c1"]);
  state.focused = "b1";
  state.set_show_removed(false);
  assert.equal(state.focused, "a1", "the focus leaves a take no longer shown");
  assert.deepEqual(state.view.notes.C.text, "Softer");
});

test("new takes of a line keep the focus and get their place in the line", () => {
  const model = fake_model(traits());
  const state = create_view_state(model);
  state.derive();
  state.focused = "c1";
  model.traits.takes = [...model.traits.takes, take("a4", "A", 4), take("a5", "A", 5)];
  state.derive();
  assert.equal(state.focused, "c1");
  assert.deepEqual(state.view.order, ["a1", "a2", "a3", "a4", "a5", "c1"]);
  assert.equal(state.view.index_of.get("a5"), 7, "its waveform: the 8th in `peaks`");
});

const fake_renderer = () => ({
  ...recorder(["schedule", "ensure_visible", "show_local", "open_note", "open_more", "focus"]),
  note_editor: { fields: () => ({ line: "C", text: "Slower", needs_pass: true }), ...recorder(["close"]) },
  more_dialog: null,
});

test("a rank key, drop or × on a stale or removed take says why at once and sends nothing", () => {
  const model = fake_model(traits());
  const state = create_view_state(model, { view_id: "v" });
  state.set_show_removed(true);
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: {} }, renderer);
  actions.send_rank("a1", 1);
  actions.send_rank("b1", null);
  assert.deepEqual(model.sent, []);
  assert.deepEqual(state.pending, []);
  assert.match(renderer.calls.show_local[0][0], /^Take 1 is stale/);
  assert.match(renderer.calls.show_local[1][0], /^Take 1 is removed/);
  actions.send_rank("a3", 1);
  assert.deepEqual(model.sent.map((m) => [m.kind, m.file, m.rank]), [["rank", "a3", 1]]);
});

test("n and g open the focused line's note and more takes, if the role may; viewers are told why", () => {
  for (const role of ["designer", "viewer"]) {
    const model = fake_model(traits({ role, allowed: ALLOWED[role] }));
    const state = create_view_state(model);
    state.derive();
    state.focused = "c1";
    const renderer = fake_renderer();
    renderer.more_dialog = { is_open: () => false };
    const actions = create_actions(model, state, { player: {} }, renderer);
    actions.open_note();
    actions.open_more();
    if (role === "designer") {
      assert.deepEqual(renderer.calls.open_note, [["C"]]);
      assert.deepEqual(renderer.calls.open_more, [["C"]]);
      assert.deepEqual(renderer.calls.show_local, []);
      actions.save_note();
      assert.deepEqual(model.sent, [{ kind: "note", line: "C", text: "Slower", needs_pass: true }]);
      assert.equal(renderer.note_editor.calls.close.length, 1);
    } else {
      assert.deepEqual(renderer.calls.open_note, []);
      assert.deepEqual(renderer.calls.show_local.map((c) => c[0]), [
        "View only: a viewer cannot write director notes.",
        "View only: a viewer cannot ask for more takes.",
      ]);
      assert.deepEqual(model.sent, []);
    }
  }
});

test("g on a locked board says a lead unlocks first; a note may still be written", () => {
  const model = fake_model(traits({ locked: true }));
  const state = create_view_state(model);
  state.derive();
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: {} }, renderer);
  actions.open_more("A");
  assert.deepEqual(renderer.calls.show_local, [[MORE_LOCKED_MESSAGE]]);
  assert.deepEqual(renderer.calls.open_more, []);
  actions.open_note("A");
  assert.deepEqual(renderer.calls.open_note, [["A"]]);
  actions.save_note();
  assert.equal(model.sent[0].kind, "note");
});

// --- the popovers ------------------------------------------------------------------------------

/** The note editor's and the more dialog's parts, as fake nodes under a fake root. */
function popover_root() {
  const option = fake_node();
  return fake_root({
    ".vl-note-editor": fake_node(),
    ".vl-note-title": fake_node(),
    ".vl-note-input": fake_node(),
    ".vl-note-pass": fake_node(),
    ".vl-more-dialog": fake_node(),
    ".vl-more-title": fake_node(),
    ".vl-more-count": fake_node(),
    ".vl-more-like": fake_node({ option, querySelector: () => option }),
    ".vl-more-text": fake_node(),
    ".vl-more-estimate": fake_node(),
    ".vl-more-submit": fake_node(),
  });
}

test("the note editor opens under the line's header with its note, and says what Save sends", () => {
  const model = fake_model(traits());
  const state = create_view_state(model);
  state.derive();
  const root = popover_root();
  const editor = create_note_editor(root, model, state);
  editor.open("C");
  const { nodes } = root;
  assert.equal(editor.is_open(), true);
  assert.equal(nodes[".vl-note-title"].textContent, "Director note on C");
  assert.equal(nodes[".vl-note-input"].value, "Softer");
  assert.equal(nodes[".vl-note-pass"].checked, true);
  assert.equal(nodes[".vl-note-input"].focused, 1);
  const header = state.view.rows[state.view.row_index.get("L:C")];
  assert.equal(nodes[".vl-note-editor"].style.top, `${header.top + 56}px`);
  nodes[".vl-note-input"].value = "Softer, and slower";
  nodes[".vl-note-pass"].checked = false;
  assert.deepEqual(editor.fields(), { line: "C", text: "Softer, and slower", needs_pass: false });
  model.traits.allowed = ["listen"]; // demoted meanwhile
  editor.update();
  assert.equal(editor.is_open(), false);
  editor.open("C");
  assert.equal(editor.is_open(), false, "a viewer gets no editor");
});

test("the more dialog: like the #1 by default, the estimate for the request as it stands, then Ask", () => {
  const model = fake_model(traits());
  const state = create_view_state(model);
  state.derive();
  const root = popover_root();
  const dialog = create_more_dialog(root, model, state);
  const { nodes } = root;
  dialog.open("A");
  assert.equal(dialog.is_open(), true);
  assert.equal(nodes[".vl-more-like"].value, "1", "A has a rank-1 current take");
  assert.equal(nodes[".vl-more-like"].option.disabled, false);
  assert.equal(nodes[".vl-more-text"].value, "New words.");
  assert.equal(nodes[".vl-more-submit"].disabled, true, "no estimate yet");
  const request = dialog.request();
  assert.deepEqual(request, { line: "A", takes: 3, like: 1, text: null });
  dialog.expect("e1", request);
  assert.equal(dialog.show_estimate({ kind: "more_estimate", seq: "e0", estimate: {} }), false, "an old answer");
  dialog.show_estimate({ kind: "more_estimate", seq: "e1",
    estimate: { takes: 3, requests: 3, characters: 30, quota: null } });
  assert.equal(nodes[".vl-more-estimate"].textContent,
    "Estimate: 3 takes · 3 requests · 30 characters · no quota (a local engine)");
  assert.equal(nodes[".vl-more-submit"].disabled, false);
  assert.equal(nodes[".vl-more-submit"].textContent, "Ask for 3 takes");
  nodes[".vl-more-count"].value = "4"; // changed: the estimate shown no longer holds
  dialog.changed();
  assert.equal(nodes[".vl-more-submit"].disabled, true);
  assert.equal(nodes[".vl-more-submit"].textContent, "Ask for 4 takes");
  dialog.expect("e2", dialog.request());
  dialog.show_estimate({ kind: "more_estimate", seq: "e2", error: "line A is gone" });
  assert.equal(nodes[".vl-more-estimate"].textContent, "line A is gone");
  assert.equal(nodes[".vl-more-submit"].disabled, true, "no estimate, no asking");
  dialog.expect("e3", dialog.request());
  dialog.show_estimate({ kind: "more_estimate", seq: "e3", estimate: { takes: 4, requests: 4, characters: 40 } });
  dialog.start();
  assert.equal(nodes[".vl-more-submit"].disabled, true, "sent once");
  assert.equal(dialog.show_result({ kind: "more", line: "A", ok: false, error: "broker down" }), false);
  assert.equal(nodes[".vl-more-estimate"].textContent, "broker down");
  assert.equal(dialog.is_open(), true);
  dialog.start();
  assert.equal(dialog.show_result({ kind: "more", line: "A", ok: true, task_id: "t1", takes: 4 }), true);
  assert.equal(dialog.is_open(), false);
});

test("the more dialog offers only the batch's ranges on a line without a rank-1 take", () => {
  const model = fake_model(traits());
  const state = create_view_state(model);
  state.derive();
  const root = popover_root();
  const dialog = create_more_dialog(root, model, state);
  dialog.open("C");
  assert.equal(root.nodes[".vl-more-like"].value, "ranges");
  assert.equal(root.nodes[".vl-more-like"].option.disabled, true);
  assert.deepEqual(dialog.request(), { line: "C", takes: 3, like: null, text: null });
  model.traits.locked = true; // locked elsewhere: the dialog goes
  dialog.update();
  assert.equal(dialog.is_open(), false);
  dialog.open("C");
  assert.equal(dialog.is_open(), false);
});

test("the estimate is asked for with a seq; its reply and the queued job reach the dialog", () => {
  const model = fake_model(traits());
  const state = create_view_state(model);
  state.derive();
  const root = popover_root();
  const dialog = create_more_dialog(root, model, state);
  const renderer = { ...fake_renderer(), more_dialog: dialog, open_more: (line) => dialog.open(line) };
  const actions = create_actions(model, state, { player: {} }, renderer);
  actions.open_more("A");
  const asked = model.sent.at(-1);
  assert.deepEqual({ ...asked, seq: "x" }, { kind: "more_estimate", line: "A", takes: 3, like: 1, text: null, seq: "x" });
  actions.on_estimate({ kind: "more_estimate", seq: asked.seq, estimate: { takes: 3, requests: 3, characters: 30 } });
  actions.ask_more();
  assert.deepEqual(model.sent.at(-1), { kind: "more", line: "A", takes: 3, like: 1, text: null });
  actions.on_more({ kind: "more", line: "A", takes: 3, ok: true, task_id: "t9" });
  assert.equal(state.asked.get("t9"), 3, "the pending badge's count");
  assert.equal(dialog.is_open(), false);
  root.nodes[".vl-more-count"].value = "0";
  dialog.open("A");
  root.nodes[".vl-more-count"].value = "0";
  const sent = model.sent.length;
  actions.estimate_more();
  assert.equal(model.sent.length, sent, "no estimate asked for 0 takes");
  assert.equal(root.nodes[".vl-more-estimate"].textContent, "How many: a whole number from 1 to 20.");
});

test("bind_keys: Escape closes a popover, Ctrl+Enter saves a note; the board's keys wait", () => {
  const root = new EventTarget();
  let open = "note";
  const renderer = {
    ...recorder(["schedule"]),
    note_editor: { is_open: () => open === "note", close: () => (open = "") },
    more_dialog: { is_open: () => open === "more", close: () => (open = "") },
    panel_dialog_open: () => false,
    confirm_open: () => false,
  };
  const actions = recorder(["save_note", "ask_more", "send_rank"]);
  const cleanup = bind_keys(root, { state: {}, audio: {}, renderer, actions });
  const key = (fields, target = { matches: () => true }) => {
    const event = new Event("keydown", { cancelable: true });
    for (const [name, value] of Object.entries({ target, ...fields })) {
      Object.defineProperty(event, name, { value });
    }
    root.dispatchEvent(event);
    return event;
  };
  assert.equal(key({ key: "2" }).defaultPrevented, false, "typed into the note");
  assert.deepEqual(actions.calls.send_rank, []);
  key({ key: "Enter", ctrlKey: true });
  assert.equal(actions.calls.save_note.length, 1);
  key({ key: "Escape" });
  assert.equal(open, "");
  open = "more";
  key({ key: "Enter" });
  assert.equal(actions.calls.ask_more.length, 1);
  key({ key: "Escape" });
  assert.equal(open, "");
  cleanup();
});

test("a QC flag's tooltip says what it means, and for words what was heard", async () => {
  const { flag_title } = await import("../../voicelab/widgets/rank_board/index.js");
  assert.equal(flag_title("words", { heard: "hold the great", wer: 0.857 }),
    "Wrong words? Heard: \u201chold the great\u201d (86 % word error rate)");
  assert.match(flag_title("words", {}), /did not hear/);
  assert.match(flag_title("clipping", {}), /^Clipping/);
  assert.equal(flag_title("something_new", {}), "something_new");
});
