// node --test over the board's quality gate before lock (issue 16): the lock dialog lists
// `lock_problems` with "Go to line" and asks "Lock anyway" (sent with force), a clean batch asks
// as before; Enter confirms, Escape cancels, arrows move along the dialog's buttons. Plain
// fakes: a tiny `document` for the list's nodes.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  bind_controls,
  bind_keys,
  create_actions,
  create_lock_dialog,
  create_view_state,
  GATE_SHOWN,
  gate_row,
  jump_target,
  lock_question,
} from "../../voicelab/widgets/rank_board/index.js";

/** Just enough of a DOM element for the dialog's list. */
class Node {
  constructor(tag) {
    this.tag = tag;
    this.children = [];
    this.dataset = {};
    this.className = "";
    this.textContent = "";
    this.hidden = false;
    this.focused = 0;
    this.classes = new Set();
    this.classList = { toggle: (c, on) => (on ? this.classes.add(c) : this.classes.delete(c)) };
  }
  append(...nodes) {
    this.children.push(...nodes);
  }
  replaceChildren() {
    this.children = [];
  }
  contains(node) {
    return this.children.some((c) => c === node || c.contains?.(node));
  }
  focus() {
    this.focused += 1;
    globalThis.document.activeElement = this;
  }
  click() {
    this.clicked = (this.clicked ?? 0) + 1;
  }
  querySelectorAll() {
    return this.buttons ?? [];
  }
  text() {
    return [this.textContent, ...this.children.map((c) => c.text())].filter(Boolean).join(" | ");
  }
}
globalThis.document = { createElement: (tag) => new Node(tag), activeElement: null };

const take = (file, line, take_number, rank = null, extra = {}) => ({ file, line, take_number, rank, ...extra });

const PROBLEMS = [
  { line: "A", problems: ["clipping", "words"], take: "a2", words: "clipping, wrong words" },
  { line: "B", problems: ["no_selection"], take: null, words: "no selection" },
];

function fake_model(extra = {}) {
  const traits = {
    batch_id: "20261206-090000-k1",
    takes: [take("a1", "A", 1), take("a2", "A", 2, 1), take("b1", "B", 1, null, { stale: true }),
      take("b2", "B", 2), take("c1", "C", 1, 1)],
    lines: [{ line: "A" }, { line: "B" }, { line: "C" }],
    locked: false,
    person: "lena",
    role: "lead",
    allowed: ["listen", "rank", "undo", "lock", "unlock", "export"],
    lock_problems: PROBLEMS,
    ...extra,
  };
  return { traits, sent: [], get: (name) => traits[name], send(msg) { this.sent.push(msg); } };
}

function dialog_parts() {
  const nodes = {
    ".vl-confirm": new Node("div"),
    ".vl-confirm-text": new Node("span"),
    ".vl-confirm-problems": new Node("ul"),
    ".vl-confirm-lock": new Node("button"),
    ".vl-confirm-unlock": new Node("button"),
  };
  nodes[".vl-confirm"].hidden = true;
  const root = { nodes, focused: 0, querySelector: (s) => nodes[s] ?? null, focus() { this.focused += 1; } };
  return { nodes, root };
}

test("lock_question: the plain question when clean, else how many lines need a look", () => {
  assert.equal(lock_question("b1", []), "Lock batch b1? Ranks can no longer change after this.");
  assert.match(lock_question("b1", PROBLEMS), /^2 lines need a look before batch b1 locks/);
  assert.match(lock_question("b1", PROBLEMS.slice(0, 1)), /^1 line needs a look/);
  assert.match(lock_question("b1", PROBLEMS), /Lock anyway\? The lock records them\.$/);
});

test("gate_row: the line, its problems in words and the selected take by its label", () => {
  const state = create_view_state(fake_model(), { view_id: "v" });
  state.derive();
  assert.deepEqual(gate_row(PROBLEMS[0], state.view.take_of), { line: "A", words: "clipping, wrong words", take: "Take 2" });
  assert.deepEqual(gate_row(PROBLEMS[1], state.view.take_of), { line: "B", words: "no selection", take: "" });
  assert.equal(gate_row({ line: "X", problems: ["mostly_silence"], take: null }, new Map()).words, "mostly silence");
});

test("jump_target: the selected take, else the line's first current take, else none", () => {
  const state = create_view_state(fake_model(), { view_id: "v" });
  state.derive();
  const { groups } = state.view;
  assert.equal(jump_target(PROBLEMS[0], groups), "a2");
  assert.equal(jump_target(PROBLEMS[1], groups), "b2", "b1 is stale");
  assert.equal(jump_target({ line: "Z", take: null }, groups), null);
});

test("create_lock_dialog: lists the gate's lines and asks Lock anyway; a clean batch as before", () => {
  const model = fake_model();
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const { nodes, root } = dialog_parts();
  const dialog = create_lock_dialog(root, model, state);
  dialog.open("lock");
  assert.equal(dialog.is_open(), true);
  assert.equal(dialog.forced(), true);
  assert.equal(nodes[".vl-confirm-lock"].textContent, "Lock anyway");
  assert.equal(nodes[".vl-confirm-lock"].focused, 1, "Enter on it locks anyway");
  assert.ok(nodes[".vl-confirm"].classes.has("vl-confirm-gate"));
  const list = nodes[".vl-confirm-problems"];
  assert.equal(list.hidden, false);
  assert.deepEqual(list.children.map((li) => li.text()), [
    "A | clipping, wrong words | Take 2 | Go to line",
    "B | no selection | Go to line",
  ]);
  assert.deepEqual(list.children.map((li) => li.children[3].dataset.line), ["A", "B"]);
  assert.deepEqual(dialog.problem_of("B"), PROBLEMS[1]);
  dialog.close();

  model.traits.lock_problems = [];
  dialog.open("lock");
  assert.equal(dialog.forced(), false);
  assert.equal(nodes[".vl-confirm-lock"].textContent, "Lock");
  assert.equal(nodes[".vl-confirm-text"].textContent, lock_question("20261206-090000-k1", []));
  assert.equal(list.hidden, true);
  assert.deepEqual(list.children, []);
  assert.ok(!nodes[".vl-confirm"].classes.has("vl-confirm-gate"));
});

test("create_lock_dialog: follows lock_problems while open; long lists are cut and counted", () => {
  const model = fake_model({ lock_problems: [] });
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const { nodes, root } = dialog_parts();
  const dialog = create_lock_dialog(root, model, state);
  dialog.open("lock");
  dialog.update();
  assert.equal(dialog.forced(), false);
  model.traits.lock_problems = Array.from({ length: GATE_SHOWN + 7 }, (_, i) => ({ line: `L${i}`, problems: ["no_selection"], take: null }));
  dialog.update(); // a take's check landed meanwhile: the list follows
  assert.equal(dialog.forced(), true);
  const list = nodes[".vl-confirm-problems"];
  assert.equal(list.children.length, GATE_SHOWN + 1);
  assert.equal(list.children.at(-1).textContent, "…and 7 more lines");
  model.traits.locked = true; // locked elsewhere: nothing left to confirm
  dialog.update();
  assert.equal(dialog.is_open(), false);
});

test("create_lock_dialog: unlock lists nothing; step moves along the shown buttons", () => {
  const model = fake_model({ locked: true });
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const { nodes, root } = dialog_parts();
  const dialog = create_lock_dialog(root, model, state);
  dialog.open("unlock");
  assert.equal(dialog.forced(), false);
  assert.equal(nodes[".vl-confirm-problems"].hidden, true);
  const [a, b, c] = [new Node("button"), new Node("button"), new Node("button")];
  b.hidden = true;
  nodes[".vl-confirm"].buttons = [a, b, c];
  globalThis.document.activeElement = a;
  dialog.step(1);
  assert.equal(c.focused, 1, "hidden buttons are skipped");
  dialog.step(1);
  assert.equal(a.focused, 1, "wraps");
  dialog.confirm();
  assert.equal(nodes[".vl-confirm-unlock"].clicked, 1);
});

test("actions.lock sends force only when asked; go_to_line shows the line and focuses", () => {
  const model = fake_model();
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const calls = { ensure_visible: [], schedule: 0 };
  const renderer = {
    ensure_visible: (file) => calls.ensure_visible.push(file),
    schedule: () => (calls.schedule += 1),
    show_local: () => assert.fail("nothing refused"),
  };
  const audio = { player: { playing: false }, prefetch: () => {} };
  const actions = create_actions(model, state, audio, renderer);
  actions.lock();
  actions.lock({ force: true });
  assert.deepEqual(model.sent, [{ kind: "lock" }, { kind: "lock", force: true }]);
  state.filter_unranked(true); // A and C have a #1: hidden by the filter
  assert.ok(!state.view.lines.includes("A"));
  actions.go_to_line(PROBLEMS[0]);
  assert.ok(state.view.lines.includes("A"), "shown past the filter");
  assert.equal(state.focused, "a2");
  assert.deepEqual(calls.ensure_visible, ["a2"]);
  actions.go_to_line(PROBLEMS[1]);
  assert.equal(state.focused, "b2");
  actions.go_to_line({ line: "gone", take: null }); // not on the board: nothing moves
  assert.equal(state.focused, "b2");
});

test("bind_controls: Lock anyway sends force; Go to line closes the dialog and jumps", () => {
  const model = fake_model();
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const root = new EventTarget();
  const hits = {};
  const target = { closest: (selector) => hits[selector] ?? null };
  const log = [];
  const renderer = {
    close_confirm: () => log.push("close"),
    confirm_forced: () => true,
    gate_problem: (line) => ({ line, take: "a2" }),
    focus: () => log.push("focus"),
  };
  const actions = {
    lock: (options) => log.push(["lock", options]),
    go_to_line: (problem) => log.push(["go", problem]),
  };
  const cleanup = bind_controls(root, { model, state, audio: {}, renderer, actions });
  const click = () => {
    const event = new Event("click");
    Object.defineProperty(event, "target", { value: target });
    root.dispatchEvent(event);
  };
  hits[".vl-confirm-lock"] = {};
  click();
  delete hits[".vl-confirm-lock"];
  hits[".vl-gate-jump"] = { dataset: { line: "A" } };
  click();
  assert.deepEqual(log, [["lock", { force: true }], "close", "close", ["go", { line: "A", take: "a2" }]]);
  cleanup();
});

test("bind_keys: with the dialog open Enter confirms, Escape cancels, arrows step", () => {
  const state = create_view_state(fake_model(), { view_id: "v" });
  state.derive();
  const root = new EventTarget();
  const log = [];
  const renderer = {
    confirm_open: () => true,
    close_confirm: () => log.push("cancel"),
    confirm: () => log.push("confirm"),
    confirm_step: (delta) => log.push(delta),
    schedule: () => {},
  };
  const actions = { send_rank: () => log.push("rank") };
  const cleanup = bind_keys(root, { state, audio: {}, renderer, actions });
  const key = (name, on = "board") => {
    const event = new Event("keydown", { cancelable: true });
    const target = { matches: (selector) => on === "button" && selector === "button" };
    Object.defineProperty(event, "key", { value: name });
    Object.defineProperty(event, "target", { value: target });
    root.dispatchEvent(event);
    return event;
  };
  assert.equal(key("Enter").defaultPrevented, true);
  assert.equal(key("Enter", "button").defaultPrevented, false, "a focused button clicks itself");
  key("ArrowDown");
  key("ArrowUp");
  key("1"); // ranks nothing while the dialog is open
  key("Escape");
  assert.deepEqual(log, ["confirm", 1, -1, "cancel"]);
  cleanup();
});
