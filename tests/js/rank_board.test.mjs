// node --test over the ranking board's exports: the pure helpers, and the factories `render`
// wires together, driven with plain fake objects (no DOM, no audio). They come from the sources
// (voicelab/widgets/rank_board/); rank_board_bundle.test.mjs checks the shipped bundle.
import assert from "node:assert/strict";
import { resolveObjectURL } from "node:buffer";
import { test } from "node:test";

import board, {
  action_for_key,
  agreement_label,
  apply_pending,
  audio_url,
  bind_drag_drop,
  bind_keys,
  bind_model,
  cascade,
  bind_controls,
  chosen_raters,
  create_actions,
  create_audio,
  create_export,
  create_line_list,
  create_lock_dialog,
  create_messages,
  create_panel_bar,
  create_panel_dialog,
  create_toolbar,
  create_view_state,
  format_duration,
  gain_factor,
  group_takes,
  layout,
  LEAD_RANK_MESSAGE,
  LINE_HEIGHT,
  line_status,
  mark_board,
  offer_download,
  peaks_from_samples,
  position_at,
  panel_summary,
  progress,
  progress_label,
  ranked_label,
  rater_note,
  rater_progress_label,
  rater_ranks,
  refusal,
  settings_label,
  start_refresh,
  step_line,
  step_take,
  stored_peaks,
  switch_offset,
  take_label,
  TAKE_HEIGHT,
  visible_lines,
  visible_range,
} from "../../voicelab/widgets/rank_board/index.js";
import { board_source } from "./board_sources.mjs";

const take = (file, line, take_number, rank = null) => ({ file, line, take_number, rank });

test("the module is an anywidget: default export with render", () => {
  assert.equal(typeof board.render, "function");
});

test("cascade follows docs/design.md, decision 1's worked example", () => {
  const first = cascade({ A: 1, B: 2, C: 4 }, "C", 1);
  assert.deepEqual(first, { A: 2, B: 3, C: 1 });
  const second = cascade({ ...first, D: null }, "D", 2);
  assert.deepEqual(second, { C: 1, D: 2, A: 3, B: 4 });
});

test("cascade: a take leaves its own rank first, so moving down frees its old rank", () => {
  assert.deepEqual(cascade({ A: 1, B: 2 }, "A", 2), { A: 2, B: 3 });
  assert.deepEqual(cascade({ A: 1, B: 3 }, "A", 2), { A: 2, B: 3 });
});

test("cascade: a take pushed past 5 becomes unranked; null clears", () => {
  const full = { A: 1, B: 2, C: 3, D: 4, E: 5, F: null };
  assert.deepEqual(cascade(full, "F", 1), { F: 1, A: 2, B: 3, C: 4, D: 5, E: null });
  assert.deepEqual(cascade({ A: 1, B: 2 }, "A", null), { A: null, B: 2 });
});

test("cascade: at most one take per rank whatever the sequence", () => {
  let ranks = { a: null, b: null, c: null, d: null, e: null, f: null, g: null };
  const files = Object.keys(ranks);
  let seed = 7;
  for (let i = 0; i < 500; i += 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const file = files[seed % files.length];
    const rank = seed % 6 === 0 ? null : (seed % 5) + 1;
    ranks = cascade(ranks, file, rank);
    assert.equal(ranks[file], rank);
    const held = Object.values(ranks).filter((r) => r !== null);
    assert.equal(new Set(held).size, held.length, JSON.stringify(ranks));
    assert.ok(held.every((r) => r >= 1 && r <= 5));
  }
});

test("apply_pending replays unconfirmed changes per line on the saved ranks", () => {
  const takes = [take("a1", "A", 1, 1), take("a2", "A", 2), take("b1", "B", 1, 1)];
  const shown = apply_pending(takes, [{ file: "a2", rank: 1 }, { file: "b1", rank: null }]);
  assert.deepEqual(Object.fromEntries(shown), { a1: 2, a2: 1, b1: null });
  assert.deepEqual(Object.fromEntries(apply_pending(takes, [])), { a1: 1, a2: null, b1: 1 });
  const unknown = apply_pending(takes, [{ file: "gone", rank: 1 }]);
  assert.deepEqual(Object.fromEntries(unknown), { a1: 1, a2: null, b1: 1 });
});

test("keys map to actions; modifiers and other keys are left alone", () => {
  for (const n of [1, 2, 3, 4, 5]) {
    assert.deepEqual(action_for_key({ key: String(n) }), { type: "rank", rank: n });
  }
  for (const key of ["0", "Backspace", "Delete"]) {
    assert.deepEqual(action_for_key({ key }), { type: "rank", rank: null });
  }
  assert.deepEqual(action_for_key({ key: "ArrowDown" }), { type: "take", delta: 1 });
  assert.deepEqual(action_for_key({ key: "j" }), { type: "take", delta: 1 });
  assert.deepEqual(action_for_key({ key: "k" }), { type: "take", delta: -1 });
  assert.deepEqual(action_for_key({ key: "ArrowUp" }), { type: "take", delta: -1 });
  assert.deepEqual(action_for_key({ key: "h" }), { type: "line", delta: -1 });
  assert.deepEqual(action_for_key({ key: "ArrowRight" }), { type: "line", delta: 1 });
  assert.deepEqual(action_for_key({ key: " " }), { type: "toggle" });
  assert.deepEqual(action_for_key({ key: "Enter" }), { type: "play_next" });
  assert.deepEqual(action_for_key({ key: "?", shiftKey: true }), { type: "keys" });
  assert.equal(action_for_key({ key: "6" }), null);
  assert.equal(action_for_key({ key: "x" }), null);
  assert.equal(action_for_key({ key: "1", ctrlKey: true }), null);
  assert.equal(action_for_key({ key: "j", metaKey: true }), null);
});

test("u, Ctrl+Z and Cmd+Z undo; Ctrl+Shift+Z, Alt+Z and a plain z do not", () => {
  assert.deepEqual(action_for_key({ key: "u" }), { type: "undo" });
  assert.deepEqual(action_for_key({ key: "z", ctrlKey: true }), { type: "undo" });
  assert.deepEqual(action_for_key({ key: "Z", ctrlKey: true }), { type: "undo" }, "Caps Lock on");
  assert.deepEqual(action_for_key({ key: "z", metaKey: true }), { type: "undo" }, "macOS");
  assert.equal(action_for_key({ key: "z", ctrlKey: true, shiftKey: true }), null, "redo");
  assert.equal(action_for_key({ key: "z", ctrlKey: true, altKey: true }), null);
  assert.equal(action_for_key({ key: "z" }), null);
  assert.equal(action_for_key({ key: "u", ctrlKey: true }), null);
});

test("ranked_label names who gave the saved rank; refusal says why in the board's words", () => {
  assert.equal(ranked_label({ rank: 1, ranked_by: "alice" }), "ranked 1 by alice");
  assert.equal(ranked_label({ rank: 3, ranked_by: null }), "ranked 3");
  assert.equal(ranked_label({ rank: 2 }), "ranked 2", "takes ranked before ranked_by existed");
  assert.equal(ranked_label({ rank: null, ranked_by: "alice" }), "");
  assert.equal(refusal("viewer", "rank"), "View only: a viewer cannot rank.");
  assert.equal(refusal("", "undo"), "View only: a viewer cannot undo.");
  assert.equal(refusal("designer", "lock"), "Only a lead can lock a batch.");
  assert.equal(refusal("designer", "unlock"), "Only a lead can unlock a batch.");
  assert.equal(refusal("designer", "export"), "Only a lead can export.");
});

test("group_takes keeps script order of lines and sorts takes by number", () => {
  const lines = [{ line: "B" }, { line: "A" }];
  const groups = group_takes(lines, [take("a2", "A", 2), take("b1", "B", 1), take("a1", "A", 1)]);
  assert.deepEqual([...groups.keys()], ["B", "A"]);
  assert.deepEqual(groups.get("A").map((t) => t.file), ["a1", "a2"]);
});

test("progress counts lines with a rank-1 take; the filter keeps sticky lines", () => {
  const takes = [take("a1", "A", 1, 1), take("b1", "B", 1, 2), take("c1", "C", 1)];
  const groups = group_takes([{ line: "A" }, { line: "B" }, { line: "C" }], takes);
  const ranks = apply_pending(takes, []);
  assert.deepEqual(progress(groups, ranks), { done: 1, total: 3 });
  assert.deepEqual(visible_lines(groups, ranks, false, new Set()), ["A", "B", "C"]);
  assert.deepEqual(visible_lines(groups, ranks, true, new Set()), ["B", "C"]);
  assert.deepEqual(visible_lines(groups, ranks, true, new Set(["A"])), ["A", "B", "C"]);
});

test("layout gives fixed-height rows: a header per line, then its takes", () => {
  const takes = [take("a1", "A", 1), take("a2", "A", 2), take("b1", "B", 1)];
  const groups = group_takes([{ line: "A" }, { line: "B" }], takes);
  const { rows, height } = layout(["A", "B"], groups, 50, 40);
  assert.deepEqual(
    rows.map((r) => [r.kind, r.line, r.file ?? null, r.top]),
    [
      ["line", "A", null, 0],
      ["take", "A", "a1", 50],
      ["take", "A", "a2", 90],
      ["line", "B", null, 130],
      ["take", "B", "b1", 180],
    ],
  );
  assert.equal(height, 220);
});

test("visible_range renders only what is on screen, for 2,000 takes", () => {
  const takes = [];
  const lines = [];
  for (let l = 0; l < 500; l += 1) {
    lines.push({ line: `L${l}` });
    for (let n = 1; n <= 4; n += 1) takes.push(take(`L${l}_${n}`, `L${l}`, n));
  }
  const groups = group_takes(lines, takes);
  const { rows, height } = layout(lines.map((l) => l.line), groups, 56, 44);
  assert.equal(rows.length, 2500);
  assert.equal(height, 500 * (56 + 4 * 44));
  const [start, end] = visible_range(rows, 100_000, 600, 0);
  assert.ok(end - start <= 600 / 44 + 2, `${end - start} rows`);
  assert.ok(rows[start].top <= 100_000 && rows[start].top + rows[start].height > 100_000);
  assert.ok(rows[end - 1].top < 100_600 && rows[end].top >= 100_600);
  const [s2, e2] = visible_range(rows, 100_000, 600, 3);
  assert.deepEqual([s2, e2], [start - 3, end + 3]);
  assert.deepEqual(visible_range(rows, 0, 600, 5).slice(0, 1), [0]);
  const [s3, e3] = visible_range(rows, height - 100, 600, 5);
  assert.equal(e3, rows.length);
  assert.ok(s3 < e3);
  assert.deepEqual(visible_range([], 0, 600), [0, 0]);
});

test("step_take and step_line move focus and clamp at the ends", () => {
  const order = ["a1", "a2", "b1"];
  assert.equal(step_take(order, "a1", 1), "a2");
  assert.equal(step_take(order, "b1", 1), "b1");
  assert.equal(step_take(order, "a1", -1), "a1");
  assert.equal(step_take(order, "missing", 1), "a1");
  assert.equal(step_take([], "a1", 1), null);
  const groups = group_takes([{ line: "A" }, { line: "B" }], [
    take("a1", "A", 1),
    take("a2", "A", 2),
    take("b1", "B", 1),
  ]);
  assert.equal(step_line(["A", "B"], groups, "A", 1), "b1");
  assert.equal(step_line(["A", "B"], groups, "B", 1), "b1");
  assert.equal(step_line(["A", "B"], groups, "B", -1), "a1");
});

test("switching takes keeps the position when the other take is long enough", () => {
  assert.equal(switch_offset(1.5, 3), 1.5);
  assert.equal(switch_offset(3.5, 3), 0);
  assert.equal(position_at(2.5, 2, true), 0.5);
  assert.equal(position_at(2.5, 2, false), 2);
  assert.equal(position_at(1, 0, true), 0);
});

test("loudness matching turns dB into a linear gain, off gives unity", () => {
  assert.equal(gain_factor(0, true), 1);
  assert.ok(Math.abs(gain_factor(-6, true) - 0.501) < 0.001);
  assert.ok(Math.abs(gain_factor(6, true) - 1.995) < 0.001);
  assert.equal(gain_factor(-6, false), 1);
  assert.equal(gain_factor(Number.NaN, true), 1);
});

test("labels, urls and peaks", () => {
  const label = settings_label({
    stability: 0.4,
    similarity_boost: 0.75,
    style: 0,
    speed: 1.1,
    use_speaker_boost: false,
  });
  assert.equal(label, "stab 0.40 · sim 0.75 · style 0.00 · speed 1.10 · no boost");
  assert.equal(settings_label(undefined), "");
  assert.equal(format_duration(1.234), "1.23 s");
  assert.equal(format_duration(null), "–");
  assert.equal(
    audio_url("/audio/", "My Skin/Voice-v1/B 1/takes/Line_1_take_1.mp3"),
    "/audio/My%20Skin/Voice-v1/B%201/takes/Line_1_take_1.mp3",
  );
  assert.equal(audio_url("/audio", "a/b.mp3"), "/audio/a/b.mp3");
  assert.equal(audio_url("/audio/", ""), null);
  const samples = Float32Array.from([0.1, -0.5, 0.2, 0.9, -0.3, 0.0]);
  assert.deepEqual(
    peaks_from_samples(samples, 3).map((v) => Math.round(v * 10) / 10),
    [0.5, 0.9, 0.3],
  );
  assert.equal(peaks_from_samples(samples, 100).length, 6);
  assert.deepEqual(peaks_from_samples(new Float32Array(0), 10), []);
});

test("stored_peaks reads one take's bytes from the packed trait", () => {
  const packed = new Uint8Array([0, 0, 0, 255, 51, 0]);
  const view = new DataView(packed.buffer);
  assert.deepEqual(stored_peaks(view, 1, 3), [1, 0.2, 0]);
  assert.deepEqual(stored_peaks(packed.buffer, 1, 3), [1, 0.2, 0]);
  assert.deepEqual(stored_peaks(view, 0, 3), []); // all zero: no overview stored
  assert.deepEqual(stored_peaks(view, 2, 3), []);
  assert.deepEqual(stored_peaks(null, 0, 3), []);
});

// --- the factories render wires together ---------------------------------------------------

/** An anywidget model: traits to `get`, `send` recorded, `on`/`off` handlers, `emit` to fire. */
function fake_model(traits) {
  const handlers = new Map();
  return {
    traits,
    sent: [],
    handlers,
    get: (name) => traits[name],
    send(msg) {
      this.sent.push(msg);
    },
    on: (name, fn) => handlers.set(name, [...(handlers.get(name) ?? []), fn]),
    off: (name, fn) => {
      const left = (handlers.get(name) ?? []).filter((h) => h !== fn);
      if (left.length) handlers.set(name, left);
      else handlers.delete(name);
    },
    emit: (name, ...args) => {
      for (const fn of handlers.get(name) ?? []) fn(...args);
    },
  };
}

/** What each role may do: `allowed` as RankBoard syncs it (people.ACTIONS order). */
const ALLOWED = {
  viewer: ["listen"],
  designer: ["listen", "rank", "undo", "note", "more"],
  lead: ["listen", "rank", "undo", "note", "more", "lock", "unlock", "jobs", "export", "panel"],
};

/** Line A has takes a1 (rank 1), a2, a3; line B has b1, b2. The board acts for a lead. */
function board_traits(extra = {}) {
  return {
    takes: [
      take("a1", "A", 1, 1),
      take("a2", "A", 2),
      { ...take("a3", "A", 3), gain_db: -6 },
      take("b1", "B", 1),
      take("b2", "B", 2),
    ],
    lines: [{ line: "A" }, { line: "B" }],
    locked: false,
    error: "",
    person: "lena",
    role: "lead",
    allowed: ALLOWED.lead,
    ...extra,
  };
}

/** The traits of a board that acts for `person` with `role`. */
const as_role = (role, person = role === "viewer" ? "vic" : "dana", extra = {}) =>
  board_traits({ person, role, allowed: ALLOWED[role], ...extra });

/** Every call of every method, by name: `calls.send_rank` is a list of argument lists. */
function recorder(names, results = {}) {
  const calls = Object.fromEntries(names.map((n) => [n, []]));
  const object = { calls };
  for (const name of names) {
    object[name] = (...args) => {
      calls[name].push(args);
      return results[name];
    };
  }
  return object;
}

const fake_renderer = () =>
  recorder(["schedule", "ensure_visible", "show_local", "confirm_open", "close_confirm",
    "redraw_waves", "show_export", "show_notice"]);

const fake_player = (fields = {}) => ({
  playing: false,
  file: null,
  line: null,
  stopped: 0,
  position: () => 1.5,
  stop() {
    this.stopped += 1;
  },
  ...fields,
});

test("view state: derive groups the traits and focuses the first take", () => {
  const state = create_view_state(fake_model(board_traits()), { view_id: "v" });
  state.derive();
  assert.deepEqual(state.view.lines, ["A", "B"]);
  assert.deepEqual(state.view.order, ["a1", "a2", "a3", "b1", "b2"]);
  assert.equal(state.focused, "a1");
  assert.equal(state.line_of("b2"), "B");
  assert.equal(state.line_of(null), null);
  assert.equal(state.readonly(), false);
  assert.ok(Math.abs(state.take_gain("a3") - 0.501) < 0.001);
  state.matched = false;
  assert.equal(state.take_gain("a3"), 1);
});

test("view state: a rank change shows at once as pending, until Python acknowledges it", () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  state.local_message = "old";
  const op = state.begin_rank("a2", 1, 1000);
  assert.deepEqual(op, { seq: "v:1", file: "a2", rank: 1, at: 1000 });
  assert.deepEqual(state.pending, [op]);
  assert.deepEqual(Object.fromEntries(state.view.rank_of), { a1: 2, a2: 1, a3: null, b1: null, b2: null });
  assert.equal(state.local_message, "");
  assert.equal(state.begin_rank("a2", 1), null, "already shown: nothing to send");
  assert.equal(state.begin_rank(null, 1), null, "no focused take");
  assert.equal(state.begin_rank("b1", 2, 1000).seq, "v:2");
  assert.equal(state.pending.length, 2);
  assert.equal(state.settle("v:9"), false);
  // Python acks in order, so the ack of v:2 settles v:1 too.
  model.traits.takes = [take("a1", "A", 1, 2), take("a2", "A", 2, 1), take("a3", "A", 3),
    take("b1", "B", 1, 2), take("b2", "B", 2)];
  assert.equal(state.settle("v:2"), true);
  assert.deepEqual(state.pending, []);
  assert.deepEqual(Object.fromEntries(state.view.rank_of), { a1: 2, a2: 1, a3: null, b1: 2, b2: null });
});

test("view state: unacknowledged changes expire and the saved ranks show again", () => {
  const state = create_view_state(fake_model(board_traits()), { view_id: "v" });
  state.derive();
  state.begin_rank("a3", 1, 1000);
  assert.equal(state.expire(1000 + 15000), false, "not yet");
  assert.equal(state.expire(1000 + 15001), true);
  assert.deepEqual(state.pending, []);
  assert.equal(state.view.rank_of.get("a1"), 1);
  assert.match(state.message(), /did not confirm a rank change/);
  assert.equal(state.expire(1000 + 99999), false, "nothing pending");
});

test("view state: Python's error shows until dismissed; a local message comes first", () => {
  const model = fake_model(board_traits({ error: "batch is locked" }));
  const state = create_view_state(model);
  assert.equal(state.message(), "batch is locked");
  state.dismiss_message();
  assert.equal(state.message(), "");
  model.traits.error = "another error";
  assert.equal(state.message(), "another error");
  state.local_message = "local";
  assert.equal(state.message(), "local");
  model.traits.locked = true;
  assert.equal(state.readonly(), true);
});

test("view state: 'Unranked only' keeps a line shown while it gets ranked", () => {
  const state = create_view_state(fake_model(board_traits()), { view_id: "v" });
  state.derive();
  state.focused = "a2";
  state.filter_unranked(true);
  assert.deepEqual(state.view.lines, ["B"]);
  assert.equal(state.focused, "b1", "focus moves to a shown take");
  state.begin_rank("b1", 1);
  assert.deepEqual(state.view.lines, ["B"], "sticky");
  state.filter_unranked(false);
  assert.deepEqual(state.view.lines, ["A", "B"]);
});

test("actions: a locked board refuses ranks locally and sends nothing", () => {
  const model = fake_model(board_traits({ locked: true }));
  const state = create_view_state(model);
  state.derive();
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.send_rank("a2", 1);
  assert.deepEqual(model.sent, []);
  assert.match(renderer.calls.show_local[0][0], /locked/);
});

test("actions: a viewer's rank and undo are refused at once with a message; nothing is sent", () => {
  const model = fake_model(as_role("viewer"));
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.send_rank("a2", 1);
  actions.send_rank("a1", null);
  actions.undo();
  actions.lock();
  actions.export_selects();
  actions.refresh(); // looking is fine
  assert.deepEqual(model.sent, [{ kind: "refresh" }]);
  assert.deepEqual(state.pending, [], "not even shown as pending");
  assert.equal(state.view.rank_of.get("a1"), 1);
  assert.deepEqual(renderer.calls.show_local.map((args) => args[0]), [
    "View only: a viewer cannot rank.",
    "View only: a viewer cannot rank.",
    "View only: a viewer cannot undo.",
    "Only a lead can lock a batch.",
    "Only a lead can export.",
  ]);
});

test("actions: a designer ranks and undoes; a lead's actions are refused locally", () => {
  const model = fake_model(as_role("designer"));
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.send_rank("a2", 1);
  actions.undo();
  actions.lock();
  assert.deepEqual(model.sent, [{ kind: "rank", file: "a2", rank: 1, seq: "v:1" }, { kind: "undo" }]);
  assert.deepEqual(renderer.calls.show_local, [["Only a lead can lock a batch."]]);
  model.traits.locked = true; // a locked batch: undo would only be refused, unlock is a lead's
  actions.undo();
  actions.unlock();
  assert.equal(model.sent.length, 2);
  assert.match(renderer.calls.show_local[1][0], /locked/);
  assert.deepEqual(renderer.calls.show_local[2], ["Only a lead can unlock a batch."]);
});

test("actions: send the messages of docs/widget-protocol.md", () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.send_rank("a2", null); // already unranked: nothing to send
  actions.send_rank("a2", 3);
  actions.undo();
  actions.lock();
  actions.refresh();
  actions.export_selects();
  model.traits.locked = true;
  actions.unlock();
  assert.deepEqual(model.sent, [
    { kind: "rank", file: "a2", rank: 3, seq: "v:1" },
    { kind: "undo" },
    { kind: "lock" },
    { kind: "refresh" },
    { kind: "export", rank: 1 },
    { kind: "unlock" },
  ]);
  assert.deepEqual(renderer.calls.show_local, []);
  assert.equal(renderer.calls.schedule.length, 1);
  actions.on_ack({ kind: "ack", seq: "v:1", ok: true });
  assert.deepEqual(state.pending, []);
  assert.equal(renderer.calls.schedule.length, 2);
});

test("actions: focus moves playback within a line and stops it across lines", () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model);
  state.derive();
  const player = fake_player({ playing: true, file: "a1", line: "A" });
  const audio = recorder(["play", "prefetch"]);
  audio.player = player;
  const renderer = fake_renderer();
  const actions = create_actions(model, state, audio, renderer);
  actions.set_focus("a2");
  assert.deepEqual(audio.calls.play, [["a2", 1.5]]);
  assert.deepEqual(renderer.calls.ensure_visible, [["a2"]]);
  assert.deepEqual(audio.calls.prefetch, [["a2"]]);
  actions.set_focus("b1");
  assert.equal(player.stopped, 1);
  actions.set_focus("b2", { follow: false });
  assert.equal(player.stopped, 1);
  assert.equal(state.focused, "b2");
  actions.set_focus(null);
  assert.equal(state.focused, "b2");
});

test("audio: without an /audio/ folder the bytes come from the kernel, asked once per file", async () => {
  const model = fake_model(board_traits({ audio_path: "" }));
  const state = create_view_state(model);
  state.derive();
  const audio = create_audio(model, state, recorder(["on_change", "on_decoded", "on_play", "on_error"]));
  const first = audio.fetch_bytes("a1");
  const second = audio.fetch_bytes("a1");
  const missing = audio.fetch_bytes("gone.mp3");
  assert.deepEqual(model.sent, [{ kind: "audio", file: "a1" }, { kind: "audio", file: "gone.mp3" }]);
  const bytes = new Uint8Array([9, 1, 2, 3, 9]);
  audio.receive({ kind: "audio", file: "a1" }, [new DataView(bytes.buffer, 1, 3)]);
  audio.receive({ kind: "audio", file: "gone.mp3", error: "no take gone.mp3" }, []);
  for (const result of [await first, await second]) {
    assert.ok(result instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(result)], [1, 2, 3]);
  }
  await assert.rejects(missing, /no take gone\.mp3/);
  audio.close(); // no AudioContext was ever made
});

/** A DOM-free element for event binders: real EventTarget dispatch, `closest` by selector. */
class FakeElement extends EventTarget {
  constructor(hits = {}) {
    super();
    this.hits = hits;
    this.classes = new Set();
    this.classList = {
      add: (c) => this.classes.add(c),
      remove: (c) => this.classes.delete(c),
    };
  }
  matches() {
    return false;
  }
  closest(selector) {
    return this.hits[selector] ?? null;
  }
  querySelectorAll() {
    return [];
  }
}

function fake_event(type, fields) {
  const event = new Event(type, { cancelable: true });
  for (const [name, value] of Object.entries(fields)) Object.defineProperty(event, name, { value });
  return event;
}

test("bind_keys: keys act on the focused take; its cleanup unbinds them", () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model);
  state.derive();
  const root = new FakeElement();
  const actions = recorder(["send_rank", "set_focus"]);
  const audio = recorder(["toggle", "play"]);
  const renderer = fake_renderer();
  const cleanup = bind_keys(root, { state, audio, renderer, actions });
  const two = fake_event("keydown", { key: "2" });
  root.dispatchEvent(two);
  assert.deepEqual(actions.calls.send_rank, [["a1", 2]]);
  assert.equal(two.defaultPrevented, true);
  root.dispatchEvent(fake_event("keydown", { key: "j" }));
  assert.deepEqual(actions.calls.set_focus, [["a2"]]);
  root.dispatchEvent(fake_event("keydown", { key: "l" }));
  assert.deepEqual(actions.calls.set_focus[1], ["b1"]);
  root.dispatchEvent(fake_event("keydown", { key: " " }));
  assert.equal(audio.calls.toggle.length, 1);
  const other = fake_event("keydown", { key: "x" });
  root.dispatchEvent(other);
  assert.equal(other.defaultPrevented, false);
  assert.equal(renderer.calls.schedule.length, 4);
  cleanup();
  root.dispatchEvent(fake_event("keydown", { key: "3" }));
  assert.equal(actions.calls.send_rank.length, 1);
  assert.equal(renderer.calls.schedule.length, 4);
});

test("bind_keys: ? opens the keys overlay; there only Escape or ? count, and close it", () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model);
  state.derive();
  const root = new FakeElement();
  const actions = recorder(["send_rank", "set_focus"]);
  let open = false;
  const renderer = {
    ...fake_renderer(),
    keys_open: () => open,
    toggle_keys: () => (open = !open),
    close_keys: () => (open = false),
  };
  const cleanup = bind_keys(root, { state, audio: recorder(["toggle", "play"]), renderer, actions });
  root.dispatchEvent(fake_event("keydown", { key: "?", shiftKey: true }));
  assert.equal(open, true);
  const rank = fake_event("keydown", { key: "2" });
  root.dispatchEvent(rank);
  assert.equal(rank.defaultPrevented, false);
  assert.equal(actions.calls.send_rank.length, 0, "no rank while the overlay shows");
  const escape = fake_event("keydown", { key: "Escape" });
  root.dispatchEvent(escape);
  assert.equal(open, false);
  assert.equal(escape.defaultPrevented, true);
  root.dispatchEvent(fake_event("keydown", { key: "?", shiftKey: true }));
  root.dispatchEvent(fake_event("keydown", { key: "?", shiftKey: true }));
  assert.equal(open, false, "? toggles");
  root.dispatchEvent(fake_event("keydown", { key: "2" }));
  assert.deepEqual(actions.calls.send_rank, [["a1", 2]]);
  cleanup();
});

test("bind_keys: u and Ctrl+Z send undo; a viewer's rank keys say why and send nothing", () => {
  for (const [role, expected] of [["designer", 3], ["viewer", 0]]) {
    const model = fake_model(as_role(role));
    const state = create_view_state(model, { view_id: "v" });
    state.derive();
    const root = new FakeElement();
    const renderer = fake_renderer();
    const actions = create_actions(model, state, { player: fake_player() }, renderer);
    const cleanup = bind_keys(root, { state, audio: recorder(["toggle"]), renderer, actions });
    const keys = [{ key: "u" }, { key: "z", ctrlKey: true }, { key: "z", metaKey: true }];
    for (const fields of keys) {
      const event = fake_event("keydown", fields);
      root.dispatchEvent(event);
      assert.equal(event.defaultPrevented, true, `${role}: the browser's own undo stays out`);
    }
    root.dispatchEvent(fake_event("keydown", { key: "2" }));
    root.dispatchEvent(fake_event("keydown", { key: "Delete" }));
    const undos = model.sent.filter((m) => m.kind === "undo");
    assert.equal(undos.length, expected, role);
    assert.deepEqual(undos[0] ?? { kind: "undo" }, { kind: "undo" });
    if (role === "viewer") {
      assert.deepEqual(model.sent, []);
      assert.deepEqual(renderer.calls.show_local.at(-1), ["View only: a viewer cannot rank."]);
      assert.equal(renderer.calls.show_local.length, 5);
      assert.equal(state.view.rank_of.get("a1"), 1, "nothing shown as changed");
    } else {
      assert.deepEqual(model.sent.filter((m) => m.kind === "rank").length, 2);
    }
    cleanup();
  }
});

test("bind_controls: the Undo button sends undo and gives the keys back to the board", () => {
  const model = fake_model(as_role("designer"));
  const state = create_view_state(model);
  state.derive();
  const root = new FakeElement({ ".vl-undo-button": {} });
  const renderer = recorder(["schedule", "focus", "show_local"]);
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  const cleanup = bind_controls(root, { model, state, audio: {}, renderer, actions });
  root.dispatchEvent(fake_event("click", {}));
  assert.deepEqual(model.sent, [{ kind: "undo" }]);
  assert.equal(renderer.calls.focus.length, 1);
  cleanup();
});

test("bind_keys: while the lock dialog is open only Escape counts, and it closes it", () => {
  const state = create_view_state(fake_model(board_traits()));
  state.derive();
  const root = new FakeElement();
  const actions = recorder(["send_rank", "set_focus"]);
  const renderer = recorder(["schedule", "close_confirm", "confirm_open"], { confirm_open: true });
  const cleanup = bind_keys(root, { state, audio: recorder(["toggle"]), renderer, actions });
  root.dispatchEvent(fake_event("keydown", { key: "1" }));
  root.dispatchEvent(fake_event("keydown", { key: "Escape" }));
  assert.deepEqual(actions.calls.send_rank, []);
  assert.equal(renderer.calls.close_confirm.length, 1);
  cleanup();
});

test("bind_drag_drop: a take dropped on a slot of its line ranks it; cleanup unbinds", () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model);
  state.derive();
  const slot_classes = new Set();
  const slot = (line, rank) => ({
    dataset: { line, rank: String(rank) },
    classList: { add: (c) => slot_classes.add(c), remove: (c) => slot_classes.delete(c) },
  });
  const root = new FakeElement({ "[data-drag-file]": { dataset: { dragFile: "a3" } } });
  const actions = recorder(["send_rank", "set_focus"]);
  const cleanup = bind_drag_drop(root, { state, renderer: fake_renderer(), actions });
  const data = {};
  const transfer = { setData: (type, value) => (data[type] = value) };
  root.dispatchEvent(fake_event("dragstart", { dataTransfer: transfer }));
  assert.equal(state.dragging, "a3");
  assert.equal(data["text/plain"], "a3");
  assert.ok(root.classes.has("vl-dragging"));
  root.hits[".vl-slot"] = slot("B", 1); // another line's slot: no drop there
  const over_b = fake_event("dragover", { dataTransfer: {} });
  root.dispatchEvent(over_b);
  assert.equal(over_b.defaultPrevented, false);
  root.hits[".vl-slot"] = slot("A", 2);
  const over_a = fake_event("dragover", { dataTransfer: {} });
  root.dispatchEvent(over_a);
  assert.equal(over_a.defaultPrevented, true);
  assert.ok(slot_classes.has("vl-drop-target"));
  root.dispatchEvent(fake_event("drop", {}));
  assert.deepEqual(actions.calls.send_rank, [["a3", 2]]);
  assert.deepEqual(actions.calls.set_focus, [["a3", { follow: false }]]);
  assert.equal(state.dragging, null);
  assert.ok(!root.classes.has("vl-dragging"));
  cleanup();
  root.dispatchEvent(fake_event("dragstart", { dataTransfer: transfer }));
  assert.equal(state.dragging, null, "unbound");
});

test("bind_drag_drop: nothing drags on a locked board", () => {
  const state = create_view_state(fake_model(board_traits({ locked: true })));
  state.derive();
  const root = new FakeElement({ "[data-drag-file]": { dataset: { dragFile: "a1" } } });
  const cleanup = bind_drag_drop(root, { state, renderer: fake_renderer(), actions: {} });
  const start = fake_event("dragstart", {});
  root.dispatchEvent(start);
  assert.equal(start.defaultPrevented, true);
  assert.equal(state.dragging, null);
  cleanup();
});

test("bind_drag_drop: a viewer's drag is refused with a message, and nothing can be dropped", () => {
  const model = fake_model(as_role("viewer"));
  const state = create_view_state(model);
  state.derive();
  const root = new FakeElement({ "[data-drag-file]": { dataset: { dragFile: "a2" } } });
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  const cleanup = bind_drag_drop(root, { state, renderer, actions });
  const start = fake_event("dragstart", { dataTransfer: { setData: () => {} } });
  root.dispatchEvent(start);
  assert.equal(start.defaultPrevented, true);
  assert.equal(state.dragging, null);
  assert.deepEqual(renderer.calls.show_local, [["View only: a viewer cannot rank."]]);
  root.hits[".vl-slot"] = { dataset: { line: "A", rank: "1" }, classList: { add() {}, remove() {} } };
  const over = fake_event("dragover", { dataTransfer: {} });
  root.dispatchEvent(over);
  assert.equal(over.defaultPrevented, false, "no slot takes a drop");
  root.dispatchEvent(fake_event("drop", {}));
  assert.deepEqual(model.sent, []);
  cleanup();
});

test("bind_model: trait changes redraw, Python's messages reach their handlers; cleanup unbinds", () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model);
  state.derive();
  const renderer = fake_renderer();
  const audio = recorder(["receive"]);
  const actions = recorder(["on_ack", "on_estimate", "on_more"]);
  const cleanup = bind_model(model, { state, audio, renderer, actions });
  assert.deepEqual([...model.handlers.keys()].sort(), [
    "change:allowed", "change:audio_path", "change:error", "change:lines", "change:locked",
    "change:mode", "change:notes", "change:notice", "change:panel", "change:peaks",
    "change:pending", "change:person", "change:raters_offered", "change:role", "change:takes",
    "msg:custom",
  ]);
  model.traits.takes = [take("a1", "A", 1)];
  model.emit("change:takes");
  assert.deepEqual(state.view.order, ["a1"]);
  assert.equal(renderer.calls.schedule.length, 1);
  state.dismissed_error = "x";
  model.emit("change:error");
  assert.equal(state.dismissed_error, "");
  model.emit("change:peaks");
  assert.equal(renderer.calls.redraw_waves.length, 1);
  model.emit("change:notice");
  assert.equal(renderer.calls.show_notice.length, 1);
  const bytes = new DataView(new ArrayBuffer(2));
  model.emit("msg:custom", { kind: "ack", seq: "v:1", ok: true }, []);
  model.emit("msg:custom", { kind: "audio", file: "a1" }, [bytes]);
  model.emit("msg:custom", { kind: "export", name: "x.zip", missing: [] }, [bytes]);
  model.emit("msg:custom", { kind: "more_estimate", seq: "e1", estimate: {} }, []);
  model.emit("msg:custom", { kind: "more", line: "A", ok: true, task_id: "t" }, []);
  model.emit("msg:custom", { kind: "unknown" }, []);
  assert.deepEqual(actions.calls.on_ack, [[{ kind: "ack", seq: "v:1", ok: true }]]);
  assert.deepEqual(actions.calls.on_estimate, [[{ kind: "more_estimate", seq: "e1", estimate: {} }]]);
  assert.deepEqual(actions.calls.on_more, [[{ kind: "more", line: "A", ok: true, task_id: "t" }]]);
  assert.deepEqual(audio.calls.receive, [[{ kind: "audio", file: "a1" }, [bytes]]]);
  assert.deepEqual(renderer.calls.show_export, [[{ kind: "export", name: "x.zip", missing: [] }, bytes]]);
  cleanup();
  assert.equal(model.handlers.size, 0);
});

test("start_refresh: asks for a refresh every refresh_ms unless hidden; cleanup stops it", async () => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const until = async (predicate, what) => {
    const deadline = Date.now() + 5000; // generous: the timers run late on a busy machine
    while (!predicate()) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await sleep(5);
    }
  };
  const model = fake_model({ refresh_ms: 5 });
  const shown = recorder(["refresh", "expire_pending"]);
  const stop = start_refresh(model, shown, () => false);
  await until(() => shown.calls.refresh.length >= 2, "two refreshes");
  stop();
  const count = shown.calls.refresh.length;
  assert.equal(shown.calls.expire_pending.length, count);
  await sleep(30);
  assert.equal(shown.calls.refresh.length, count, "stopped");
  const hidden = recorder(["refresh", "expire_pending"]);
  const stop_hidden = start_refresh(model, hidden, () => true);
  await until(() => hidden.calls.expire_pending.length >= 2, "two ticks while hidden");
  stop_hidden();
  assert.equal(hidden.calls.refresh.length, 0);
});

// --- the renderer's parts, on fake elements ---------------------------------------------------

/** A fake DOM node: plain fields, `focus` counted. */
const fake_node = (fields = {}) => ({
  hidden: true,
  textContent: "",
  dataset: {},
  focused: 0,
  focus() {
    this.focused += 1;
  },
  ...fields,
});

/** A board root whose `querySelector` answers from `nodes` (selector -> fake node). */
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

test("create_lock_dialog: opens with the focus on Lock, closes back to the board", () => {
  const model = fake_model(board_traits({ batch_id: "20260101-090000-k1" }));
  const state = create_view_state(model);
  state.derive();
  const root = fake_root({
    ".vl-confirm": fake_node(),
    ".vl-confirm-text": fake_node(),
    ".vl-confirm-lock": fake_node(),
    ".vl-confirm-unlock": fake_node(),
  });
  const dialog = create_lock_dialog(root, model, state);
  assert.equal(dialog.is_open(), false);
  dialog.open();
  assert.equal(dialog.is_open(), true);
  assert.equal(
    root.nodes[".vl-confirm-text"].textContent,
    "Lock batch 20260101-090000-k1? Ranks can no longer change after this.",
  );
  assert.equal(root.nodes[".vl-confirm-lock"].focused, 1);
  dialog.update(); // not locked: stays open
  assert.equal(dialog.is_open(), true);
  dialog.close();
  assert.equal(dialog.is_open(), false);
  assert.deepEqual(root.focused, [{ preventScroll: true }]);
  dialog.open();
  model.traits.locked = true;
  dialog.update(); // locked elsewhere while open: the dialog goes
  assert.equal(dialog.is_open(), false);
  dialog.open(); // a locked board has nothing to lock
  assert.equal(dialog.is_open(), false);
  assert.equal(root.nodes[".vl-confirm-lock"].focused, 2);
  assert.equal(root.nodes[".vl-confirm-lock"].hidden, false);
  assert.equal(root.nodes[".vl-confirm-unlock"].hidden, true, "a lock asks Lock, not Unlock");
});

/** The parts of the lock dialog, as fake nodes under a fake root. */
const dialog_root = () =>
  fake_root({
    ".vl-confirm": fake_node(),
    ".vl-confirm-text": fake_node(),
    ".vl-confirm-lock": fake_node(),
    ".vl-confirm-unlock": fake_node(),
  });

test("create_lock_dialog: Unlock asks a lead on a locked board, gone when unlocked elsewhere", () => {
  const model = fake_model(board_traits({ batch_id: "20260101-090000-k1", locked: true }));
  const state = create_view_state(model);
  state.derive();
  const root = dialog_root();
  const dialog = create_lock_dialog(root, model, state);
  dialog.open("lock"); // locked: nothing to lock
  assert.equal(dialog.is_open(), false);
  dialog.open("unlock");
  assert.equal(dialog.is_open(), true);
  assert.equal(
    root.nodes[".vl-confirm-text"].textContent,
    "Unlock batch 20260101-090000-k1? Ranks can change again; the unlock is recorded.",
  );
  assert.equal(root.nodes[".vl-confirm-unlock"].hidden, false);
  assert.equal(root.nodes[".vl-confirm-unlock"].focused, 1);
  assert.equal(root.nodes[".vl-confirm-lock"].hidden, true, "no Lock button in an unlock");
  dialog.update(); // still locked: stays open
  assert.equal(dialog.is_open(), true);
  model.traits.locked = false;
  dialog.update(); // unlocked elsewhere while open: the dialog goes
  assert.equal(dialog.is_open(), false);
  dialog.open("unlock"); // an open board has nothing to unlock
  assert.equal(dialog.is_open(), false);
  for (const role of ["designer", "viewer"]) {
    const other = fake_model(as_role(role, undefined, { locked: true }));
    const other_state = create_view_state(other);
    other_state.derive();
    const other_dialog = create_lock_dialog(dialog_root(), other, other_state);
    other_dialog.open("unlock");
    assert.equal(other_dialog.is_open(), false, `a ${role} is never asked to unlock`);
  }
});

/** A fake `<a>`: each click records the href it would open. */
const fake_link = () => ({
  ...fake_node({ href: "", download: "" }),
  clicks: [],
  click() {
    this.clicks.push(this.href);
  },
});

const blob_bytes = async (url) => [...new Uint8Array(await resolveObjectURL(url).arrayBuffer())];

test("offer_download: the link holds the file and is clicked; its previous URL is released", async () => {
  const link = fake_link();
  offer_download(link, new Uint8Array([1, 2, 3]), "selects.zip", "application/zip");
  const first = link.href;
  assert.match(first, /^blob:/);
  assert.deepEqual(link.clicks, [first]);
  assert.equal(link.download, "selects.zip");
  assert.equal(link.textContent, "Download selects.zip");
  assert.equal(link.hidden, false);
  assert.equal(resolveObjectURL(first).type, "application/zip");
  assert.deepEqual(await blob_bytes(first), [1, 2, 3]);
  offer_download(link, new Uint8Array([4]).buffer, "again.zip", "application/zip");
  assert.equal(resolveObjectURL(first), undefined, "revoked");
  assert.deepEqual(await blob_bytes(link.href), [4]);
  assert.equal(link.clicks.length, 2);
});

test("create_export: shown when locked, disabled while Python builds the zip, then offered", async () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model);
  const root = fake_root({
    ".vl-export-button": fake_node({ hidden: false }),
    ".vl-export-link": fake_link(),
  });
  const button = root.nodes[".vl-export-button"];
  const link = root.nodes[".vl-export-link"];
  const exporter = create_export(root, state);
  exporter.update();
  assert.equal(button.hidden, true);
  model.traits.locked = true;
  exporter.update();
  assert.equal(button.hidden, false);
  exporter.start();
  assert.equal(button.disabled, true);
  exporter.show({ kind: "export", error: "no rank-1 takes" }, undefined);
  assert.equal(button.disabled, false);
  assert.deepEqual(link.clicks, []);
  exporter.start();
  const bytes = new Uint8Array([9, 7, 8, 9]);
  const reply = { kind: "export", name: "k1-selects.zip", missing: [] };
  exporter.show(reply, new DataView(bytes.buffer, 1, 2));
  assert.equal(button.disabled, false);
  assert.deepEqual(link.clicks, [link.href]);
  assert.equal(link.download, "k1-selects.zip");
  assert.deepEqual(await blob_bytes(link.href), [7, 8]);
});

test("create_messages: the message box follows the state; a notice hides after notice_ms", async () => {
  const model = fake_model(board_traits({ error: "", notice: "" }));
  const state = create_view_state(model);
  const root = fake_root({
    ".vl-message": fake_node(),
    ".vl-message-text": fake_node(),
    ".vl-notice": fake_node(),
  });
  const box = root.nodes[".vl-message"];
  const notice = root.nodes[".vl-notice"];
  const messages = create_messages(root, model, state, 5);
  messages.update();
  assert.equal(box.hidden, true);
  state.local_message = "This batch is locked: ranks can no longer change.";
  messages.update();
  assert.equal(box.hidden, false);
  assert.equal(root.nodes[".vl-message-text"].textContent, state.local_message);
  state.dismiss_message();
  messages.update();
  assert.equal(box.hidden, true);
  assert.equal(root.nodes[".vl-message-text"].textContent, "");

  model.traits.notice = "Locked 20260101-090000-k1.";
  messages.show_notice();
  assert.equal(notice.hidden, false);
  assert.equal(notice.textContent, "Locked 20260101-090000-k1.");
  const deadline = Date.now() + 5000;
  while (!notice.hidden) {
    assert.ok(Date.now() < deadline, "the notice never hid");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  messages.show_notice();
  messages.close(); // the timer is gone: the notice stays until the next draw of it
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(notice.hidden, false);
  model.traits.notice = "";
  messages.show_notice();
  assert.equal(notice.hidden, true);
});

test("create_toolbar: title, progress and the lock button; the banner when locked", () => {
  const traits = board_traits({ skin: "Knight", voice: "Edric-k1", batch_id: "20260101-090000-k1" });
  const model = fake_model(traits);
  const state = create_view_state(model);
  state.derive();
  const root = fake_root({
    ".vl-title": fake_node(),
    ".vl-progress": fake_node(),
    ".vl-readonly-banner": fake_node({ hidden: false }),
    ".vl-lock-button": fake_node(),
    ".vl-unlock-button": fake_node(),
    ".vl-undo-button": fake_node(),
    ".vl-view-only": fake_node(),
  });
  const undo = root.nodes[".vl-undo-button"];
  const unlock = root.nodes[".vl-unlock-button"];
  const title = root.nodes[".vl-title"];
  const counter = root.nodes[".vl-progress"];
  const banner = root.nodes[".vl-readonly-banner"];
  const button = root.nodes[".vl-lock-button"];
  const toolbar = create_toolbar(root, model, state);
  toolbar.update();
  assert.equal(title.textContent, "Knight · Edric-k1 · 20260101-090000-k1");
  assert.equal(counter.textContent, "1 / 2 lines ranked");
  assert.deepEqual(counter.dataset, { done: "1", total: "2" });
  assert.equal(banner.hidden, true);
  assert.equal(button.disabled, false);
  assert.equal(button.textContent, "Lock batch…");
  assert.equal(unlock.hidden, true, "nothing to unlock");
  assert.equal(undo.disabled, false);
  state.begin_rank("b2", 1); // shown at once, before Python confirms it
  model.traits.locked = true;
  model.traits.skin = "";
  toolbar.update();
  assert.equal(title.textContent, "Edric-k1 · 20260101-090000-k1");
  assert.equal(counter.textContent, "2 / 2 lines ranked");
  assert.equal(banner.hidden, false);
  assert.equal(button.disabled, true);
  assert.equal(button.textContent, "Locked");
  assert.equal(unlock.hidden, false);
  assert.equal(undo.disabled, true, "nothing can change on a locked batch");
});

const board_js = board_source(".js");

/** The `data-needs` of the TEMPLATE element with class `cls` (what the styles hide it for). */
function needs_of(cls) {
  return String(board_js).match(new RegExp(`class="${cls}" data-needs="(\\w+)"`))?.[1];
}

test("Unlock… shows only for a lead on a locked board", () => {
  assert.equal(needs_of("vl-unlock-button"), "unlock");
  const shown = {};
  for (const role of ["viewer", "designer", "lead"]) {
    for (const locked of [false, true]) {
      const model = fake_model(as_role(role, undefined, { locked }));
      const state = create_view_state(model);
      state.derive();
      const nodes = [".vl-title", ".vl-progress", ".vl-readonly-banner", ".vl-lock-button",
        ".vl-undo-button", ".vl-view-only"];
      const unlock = fake_node({ dataset: { needs: needs_of("vl-unlock-button") } });
      const parts = { ...Object.fromEntries(nodes.map((n) => [n, fake_node()])) };
      parts[".vl-unlock-button"] = unlock;
      const root = { ...fake_root(parts), dataset: {}, classList: { toggle: () => {} } };
      create_toolbar(root, model, state).update();
      mark_board(root, model, state, fake_player());
      // What rank_board.css shows: not `hidden`, and `data-allowed` has what it `data-needs`.
      shown[`${role}${locked ? ", locked" : ""}`] =
        !unlock.hidden && root.dataset.allowed.split(" ").includes(unlock.dataset.needs);
    }
  }
  assert.deepEqual(shown, {
    viewer: false, "viewer, locked": false,
    designer: false, "designer, locked": false,
    lead: false, "lead, locked": true,
  });
});

test("bind_controls: Unlock… opens the confirmation, whose Unlock sends {kind: unlock}", () => {
  const model = fake_model(board_traits({ batch_id: "b1", locked: true }));
  const state = create_view_state(model);
  state.derive();
  const dialog_nodes = dialog_root();
  const dialog = create_lock_dialog(dialog_nodes, model, state);
  const renderer = {
    ...recorder(["schedule", "focus", "show_local"]),
    open_confirm: dialog.open,
    close_confirm: dialog.close,
  };
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  const click = (selector) => {
    const root = new FakeElement({ [selector]: {} });
    const cleanup = bind_controls(root, { model, state, audio: {}, renderer, actions });
    root.dispatchEvent(fake_event("click", {}));
    cleanup();
  };
  click(".vl-unlock-button");
  assert.equal(dialog.is_open(), true);
  assert.match(dialog_nodes.nodes[".vl-confirm-text"].textContent, /^Unlock batch b1\? /);
  assert.deepEqual(model.sent, [], "nothing is sent before the confirmation");
  click(".vl-confirm-cancel");
  assert.equal(dialog.is_open(), false);
  assert.deepEqual(model.sent, []);
  click(".vl-unlock-button");
  click(".vl-confirm-unlock");
  assert.deepEqual(model.sent, [{ kind: "unlock" }]);
  assert.equal(dialog.is_open(), false);
  assert.equal(dialog_nodes.focused.length, 2, "the keys go back to the board");
  assert.deepEqual(renderer.calls.show_local, []);
});

test("create_toolbar: the View only mark says who looks (the styles show it to viewers only)", () => {
  const model = fake_model(as_role("viewer", "vic"));
  const state = create_view_state(model);
  state.derive();
  const nodes = [".vl-title", ".vl-progress", ".vl-readonly-banner", ".vl-lock-button",
    ".vl-unlock-button", ".vl-undo-button", ".vl-view-only"];
  const root = fake_root(Object.fromEntries(nodes.map((n) => [n, fake_node()])));
  create_toolbar(root, model, state).update();
  assert.equal(root.nodes[".vl-view-only"].title,
    "vic is a viewer: listening only, ranks cannot change here");
});

test("mark_board: the root's class and data attributes", () => {
  const model = fake_model(board_traits({ batch_id: "b1" }));
  const state = create_view_state(model);
  state.derive();
  const classes = new Set();
  const toggle = (name, on) => (on ? classes.add(name) : classes.delete(name));
  const root = { dataset: {}, classList: { toggle } };
  mark_board(root, model, state, fake_player());
  const lead = { role: "lead", allowed: "listen rank undo note more lock unlock jobs export panel" };
  assert.deepEqual(root.dataset, {
    ...{ mode: "solo", batchId: "b1", focusedFile: "a1", playingFile: "", pending: "0" }, ...lead,
  });
  assert.deepEqual([...classes], []);
  state.begin_rank("a2", 1);
  model.traits.locked = true;
  mark_board(root, model, state, fake_player({ playing: true, file: "a3" }));
  assert.deepEqual(root.dataset, {
    ...{ mode: "solo", batchId: "b1", focusedFile: "a1", playingFile: "a3", pending: "1" }, ...lead,
  });
  assert.deepEqual([...classes], ["vl-readonly"]);
  Object.assign(model.traits, { role: "viewer", allowed: ["listen"] }); // demoted meanwhile
  mark_board(root, model, state, fake_player());
  assert.equal(root.dataset.role, "viewer");
  assert.equal(root.dataset.allowed, "listen");
});

test("create_line_list: focus scrolls just enough to show the take and its line's header", () => {
  const model = fake_model(board_traits());
  const state = create_view_state(model);
  state.derive();
  const scroller = { scrollTop: 0, clientHeight: 100 };
  const root = fake_root({ ".vl-scroll": scroller, ".vl-spacer": { style: {} } });
  const audio = { player: fake_player(), decoded_peaks: new Map(), decoded_duration: new Map() };
  const list = create_line_list(root, model, state, audio);
  assert.equal(list.scroller, scroller);
  // Rows: header A, a1, a2, a3, header B, b1, b2.
  const b_header = LINE_HEIGHT + 3 * TAKE_HEIGHT;
  const b2_bottom = 2 * LINE_HEIGHT + 5 * TAKE_HEIGHT;
  list.ensure_visible("a1"); // shown already
  assert.equal(scroller.scrollTop, 0);
  list.ensure_visible("b2"); // below: its bottom at the viewport's bottom
  assert.equal(scroller.scrollTop, b2_bottom - 100);
  list.ensure_visible("b1"); // its header is above the viewport: scroll up to the header
  assert.equal(scroller.scrollTop, b_header);
  list.ensure_visible("b2");
  assert.equal(scroller.scrollTop, b2_bottom - 100);
  list.ensure_visible("gone.mp3");
  assert.equal(scroller.scrollTop, b2_bottom - 100);
  state.filter_unranked(true); // line A (ranked) goes: b1 is now near the top
  list.ensure_visible("b1");
  assert.equal(scroller.scrollTop, 0);
  scroller.scrollTop = 50;
  list.scroll_to_top();
  assert.equal(scroller.scrollTop, 0);
  // No row is mounted (`update` needs a page): a decoded take and the playhead touch nothing.
  list.redraw_take("a1");
  list.update_playhead();
});

test("every part a role may lack is hidden by the styles when `allowed` lacks it", () => {
  const js = board_source(".js");
  const css = board_source(".css");
  const needs = new Set([
    ...[...js.matchAll(/data-needs="(\w+)"/g)].map((m) => m[1]),
    ...[...js.matchAll(/dataset\.needs = "(\w+)"/g)].map((m) => m[1]),
  ]);
  assert.deepEqual([...needs].sort(), ["export", "lock", "more", "note", "panel", "rank", "undo", "unlock"]);
  for (const action of needs) {
    const rule = `.vl-rank-board:not([data-allowed~="${action}"]) [data-needs~="${action}"]`;
    assert.ok(css.includes(rule), `rank_board.css does not hide ${action}`);
  }
  assert.ok(css.includes('.vl-rank-board[data-allowed~="rank"] [data-lacks~="rank"]'));
});

// --- rating panels (issue 14): labels, a rater's blind board, a lead's views -------------------

test("labels: a blind take is 'Take A', a consensus rank says so, each mode counts its own", () => {
  assert.equal(take_label({ take_number: 3 }), "Take 3");
  assert.equal(take_label({ take_number: 2, label: "B" }), "Take B", "the label, not the number");
  assert.equal(ranked_label({ rank: 1, ranked_by: "panel" }), "consensus rank 1");
  assert.equal(progress_label({ done: 1, total: 4 }, "solo"), "1 / 4 lines ranked");
  assert.equal(progress_label({ done: 1, total: 4 }, "blind"), "1 / 4 lines ranked by you");
  assert.equal(progress_label({ done: 1, total: 4 }, "rater"), "1 / 4 lines ranked by you");
  assert.equal(progress_label({ done: 3, total: 4 }, "lead"), "3 / 4 lines with a consensus");
  assert.equal(progress_label({ done: 0, total: 2 }, undefined), "0 / 2 lines ranked");
});

test("panel words: agreement, a line's state, raters' ranks and progress, the bar's summary", () => {
  assert.equal(agreement_label(0.4167), "W 0.42");
  assert.equal(agreement_label(1), "W 1.00");
  assert.equal(agreement_label(null), "W –");
  assert.equal(line_status({ closed: false }), "open");
  assert.equal(line_status({ closed: true, closed_by: "lena", override: false }), "closed by lena");
  assert.equal(line_status({ closed: true, closed_by: "lena", override: true }), "final ranks by lena");
  const panel = { raters: ["ann", "ben", "cat"] };
  const line = { ranks_by: { ann: { a1: 1, a2: 2 }, ben: { a2: 1 }, cat: {} } };
  assert.deepEqual(rater_ranks(panel, line, "a1"), [
    { name: "ann", rank: 1 }, { name: "ben", rank: null }, { name: "cat", rank: null },
  ]);
  assert.deepEqual(rater_ranks({}, undefined, "a1"), []);
  assert.equal(rater_progress_label("ann", { done: 2, total: 4 }), "ann 2/4");
  assert.equal(rater_progress_label("ben"), "ben 0/0");
  assert.equal(panel_summary({ raters: ["a", "b", "c"], blind: true, method: "borda", opened_by: "lena" }),
    "Blind panel of 3 · Borda consensus · opened by lena");
  assert.equal(panel_summary({ raters: ["a"], blind: false, method: "borda" }), "Panel of 1 · Borda consensus");
  assert.equal(panel_summary({}), "");
  assert.match(rater_note("blind"), /^Blind panel: you rank alone\./);
  assert.match(rater_note("rater"), /other raters' ranks and the consensus are hidden/);
  assert.equal(rater_note("solo"), "");
  assert.deepEqual(chosen_raters(["ann", "ben"], " cat, ann ,, dan "), ["ann", "ben", "cat", "dan"]);
  assert.deepEqual(chosen_raters([], ""), []);
});

test("refusal: on a panel, a designer who does not rate it is told why", () => {
  assert.equal(refusal("designer", "rank", "blind"),
    "You are not one of this panel's raters: only its raters rank here.");
  assert.equal(refusal("lead", "undo", "rater"),
    "You are not one of this panel's raters: only its raters rank here.");
  assert.equal(refusal("viewer", "rank", "blind"), "View only: a viewer cannot rank.");
  assert.equal(refusal("designer", "panel"), "Only a lead can run a rating panel.");
  assert.deepEqual(action_for_key({ key: "d" }), { type: "disagreements" });
  assert.deepEqual(action_for_key({ key: "c" }), { type: "close_line" });
  assert.equal(action_for_key({ key: "d", ctrlKey: true }), null);
});

/** A blind rater's board: opaque ids, labels, positions as take numbers, their own ranks. */
function blind_traits(extra = {}) {
  const blind = (file, line, n, rank = null) =>
    ({ ...take(file, line, n, rank), label: "ABC"[n - 1], settings: {}, ranked_by: rank ? "ann" : null });
  return as_role("designer", "ann", {
    mode: "blind",
    takes: [blind("tq", "A", 2), blind("tx", "A", 1, 1), blind("tz", "A", 3), blind("ty", "B", 1)],
    panel: {},
    ...extra,
  });
}

test("blind board: the shuffled order is the positions; keys rank the rater's own ranking", () => {
  const model = fake_model(blind_traits());
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  assert.deepEqual(state.view.order, ["tx", "tq", "tz", "ty"], "by position: A, B, C");
  assert.equal(state.rank_kind(), "rank");
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.send_rank("tq", 1); // the client-side cascade runs on her own ranks
  assert.deepEqual(model.sent, [{ kind: "rank", file: "tq", rank: 1, seq: "v:1" }]);
  assert.deepEqual(Object.fromEntries(state.view.rank_of), { tq: 1, tx: 2, tz: null, ty: null });
  actions.toggle_disagreements(); // a rater has no Disagreements view
  assert.equal(state.disagreements, false);
  assert.deepEqual(renderer.calls.show_local, []);
});

test("blind board: someone who does not rate the panel is told so, and nothing is sent", () => {
  const model = fake_model(blind_traits({ allowed: ["listen"] }));
  const state = create_view_state(model);
  state.derive();
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.send_rank("tq", 1);
  actions.undo();
  assert.deepEqual(model.sent, []);
  assert.deepEqual(renderer.calls.show_local.map((a) => a[0]), [
    "You are not one of this panel's raters: only its raters rank here.",
    "You are not one of this panel's raters: only its raters rank here.",
  ]);
});

/** A lead's panel board: the consensus in `takes`, the report in `panel` (line B first). */
function lead_traits(extra = {}) {
  return board_traits({
    mode: "lead",
    allowed: [...ALLOWED.lead, "panel"],
    panel: {
      raters: ["ann", "ben"], blind: true, method: "borda", opened_by: "lena",
      progress: { ann: { done: 2, total: 2 }, ben: { done: 1, total: 2 } },
      lines: [
        { line: "B", agreement: 0.25, ranks_by: { ann: { b1: 1 }, ben: { b2: 1 } },
          raters_ranked: ["ann", "ben"], closed: false, closed_by: null, override: false },
        { line: "A", agreement: 1, ranks_by: { ann: { a1: 1 }, ben: { a1: 1 } },
          raters_ranked: ["ann", "ben"], closed: true, closed_by: "lena", override: false },
      ],
    },
    ...extra,
  });
}

test("lead board: the normal view shows the consensus read-only; keys say where ranks are set", () => {
  const model = fake_model(lead_traits());
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  assert.deepEqual(state.view.lines, ["A", "B"], "script order");
  assert.equal(state.rank_kind(), "");
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.send_rank("a2", 1);
  assert.deepEqual(model.sent, []);
  assert.deepEqual(state.pending, []);
  assert.deepEqual(renderer.calls.show_local, [[LEAD_RANK_MESSAGE]]);
  assert.match(LEAD_RANK_MESSAGE, /^You lead this panel: .*Disagreements/);
});

test("lead board: Disagreements lists lines least agreement first; keys set final ranks", () => {
  const model = fake_model(lead_traits());
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const renderer = { ...fake_renderer(), ...recorder(["scroll_to_top", "ensure_visible", "schedule", "show_local"]) };
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.toggle_disagreements();
  assert.equal(state.disagreements, true);
  assert.deepEqual(state.view.lines, ["B", "A"], "least agreement first");
  assert.deepEqual(state.view.order, ["b1", "b2", "a1", "a2", "a3"]);
  assert.equal(state.rank_kind(), "override");
  actions.send_rank("b2", 1); // shown at once through the cascade on the consensus ranks
  assert.deepEqual(model.sent, [{ kind: "override", file: "b2", rank: 1, seq: "v:1" }]);
  assert.equal(state.view.rank_of.get("b2"), 1);
  state.focused = "b1";
  actions.toggle_line(); // B is open: close it
  state.focused = "a2";
  actions.toggle_line(); // A is closed: reopen it
  actions.close_line("B");
  assert.deepEqual(model.sent.slice(1), [
    { kind: "close", line: "B" }, { kind: "reopen", line: "A" }, { kind: "close", line: "B" },
  ]);
  actions.on_ack({ kind: "ack", seq: "v:1", ok: true });
  assert.deepEqual(state.pending, []);
  model.traits.mode = "solo"; // the panel is gone (another lead's session): so is the view
  state.derive();
  assert.equal(state.disagreements, false);
  actions.toggle_line();
  assert.equal(model.sent.length, 4, "no Disagreements, nothing to close");
});

test("lead actions are a lead's: a designer's override, close and panel are refused at once", () => {
  const model = fake_model(lead_traits({ role: "designer", allowed: ALLOWED.designer }));
  const state = create_view_state(model);
  state.derive();
  state.set_disagreements(true);
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  actions.send_rank("b2", 1);
  actions.close_line("B");
  actions.reopen_line("A");
  assert.equal(actions.open_panel({ raters: ["ann"], blind: true }), false);
  assert.deepEqual(model.sent, []);
  assert.deepEqual(new Set(renderer.calls.show_local.map((a) => a[0])),
    new Set(["Only a lead can run a rating panel."]));
});

test("open_panel sends the dialog's choice; with no rater it says so and sends nothing", () => {
  const model = fake_model(board_traits({ allowed: [...ALLOWED.lead, "panel"], mode: "solo" }));
  const state = create_view_state(model);
  state.derive();
  const renderer = fake_renderer();
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  assert.equal(actions.open_panel({ raters: [], blind: true }), false);
  assert.match(renderer.calls.show_local[0][0], /^Choose at least one rater/);
  assert.equal(actions.open_panel({ raters: ["ann", "ben"], blind: false }), true);
  assert.deepEqual(model.sent, [{ kind: "panel", raters: ["ann", "ben"], blind: false }]);
});

test("bind_keys: d shows Disagreements, c closes the line; the panel dialog keeps the keys", () => {
  const model = fake_model(lead_traits());
  const state = create_view_state(model);
  state.derive();
  const root = new FakeElement();
  const actions = recorder(["send_rank", "set_focus", "toggle_disagreements", "toggle_line"]);
  let dialog_open = false;
  const renderer = {
    ...fake_renderer(),
    ...recorder(["close_panel_dialog"]),
    panel_dialog_open: () => dialog_open,
  };
  const cleanup = bind_keys(root, { state, audio: recorder(["toggle"]), renderer, actions });
  root.dispatchEvent(fake_event("keydown", { key: "d" }));
  root.dispatchEvent(fake_event("keydown", { key: "c" }));
  assert.equal(actions.calls.toggle_disagreements.length, 1);
  assert.equal(actions.calls.toggle_line.length, 1);
  dialog_open = true;
  const one = fake_event("keydown", { key: "1" });
  root.dispatchEvent(one);
  assert.equal(one.defaultPrevented, false, "typing in the dialog is the dialog's");
  assert.deepEqual(actions.calls.send_rank, []);
  root.dispatchEvent(fake_event("keydown", { key: "Escape" }));
  assert.equal(renderer.calls.close_panel_dialog.length, 1);
  cleanup();
});

test("bind_controls: Disagreements, Close line and Reopen send through the actions", () => {
  const model = fake_model(lead_traits());
  const state = create_view_state(model);
  state.derive();
  const renderer = { ...recorder(["schedule", "focus", "show_local", "scroll_to_top", "ensure_visible"]) };
  const actions = create_actions(model, state, { player: fake_player() }, renderer);
  const click = (hits) => {
    const root = new FakeElement(hits);
    const cleanup = bind_controls(root, { model, state, audio: {}, renderer, actions });
    root.dispatchEvent(fake_event("click", {}));
    cleanup();
  };
  click({ ".vl-disagreements-button": {} });
  assert.equal(state.disagreements, true);
  click({ ".vl-line-close": { dataset: { line: "B" } } });
  click({ ".vl-line-reopen": { dataset: { line: "A" } } });
  assert.deepEqual(model.sent, [{ kind: "close", line: "B" }, { kind: "reopen", line: "A" }]);
  click({ ".vl-disagreements-button": {} });
  assert.equal(state.disagreements, false);
  assert.equal(renderer.calls.focus.length, 4, "the keys go back to the board");
});

/** A stand-in `document` for parts that make elements: plain objects with the fields used. */
function with_document(run) {
  const element = (tag) => ({
    tag, className: "", textContent: "", dataset: {}, children: [], hidden: false, title: "",
    append(...nodes) {
      this.children.push(...nodes);
    },
    replaceChildren(...nodes) {
      this.children = nodes;
    },
    querySelector(selector) {
      return selector === "input" ? this.children.map((c) => c.children?.[0]).find(Boolean) ?? null : null;
    },
    querySelectorAll() {
      return this.children.flatMap((c) => (c.children ?? []).filter((x) => x.tag === "input"));
    },
    focus() {
      this.focused = (this.focused ?? 0) + 1;
    },
  });
  const saved = globalThis.document;
  globalThis.document = { createElement: element, createTextNode: (text) => ({ text }) };
  try {
    return run(element);
  } finally {
    globalThis.document = saved;
  }
}

test("create_panel_bar: a lead sees every rater's progress; a rater a note; solo offers a panel", () => {
  with_document((element) => {
    const nodes = {
      ".vl-panel-bar": element("div"), ".vl-panel-summary": element("span"),
      ".vl-panel-raters": element("span"), ".vl-disagreements-button": element("button"),
      ".vl-panel-button": element("button"),
    };
    for (const node of Object.values(nodes)) node.setAttribute = function (name, value) {
      this[name] = value;
    };
    const root = fake_root(nodes);
    const model = fake_model(lead_traits());
    const state = create_view_state(model);
    state.derive();
    const bar = create_panel_bar(root, model, state);
    bar.update();
    assert.equal(nodes[".vl-panel-bar"].hidden, false);
    assert.equal(nodes[".vl-panel-summary"].textContent, "Blind panel of 2 · Borda consensus · opened by lena");
    assert.deepEqual(nodes[".vl-panel-raters"].children.map((c) => [c.textContent, c.dataset.complete]),
      [["ann 2/2", "true"], ["ben 1/2", "false"]]);
    assert.equal(nodes[".vl-disagreements-button"].hidden, false);
    assert.equal(nodes[".vl-disagreements-button"]["aria-pressed"], "false");
    assert.equal(nodes[".vl-panel-button"].hidden, true, "a panel is open already");
    state.set_disagreements(true);
    bar.update();
    assert.equal(nodes[".vl-disagreements-button"]["aria-pressed"], "true");
    assert.equal(nodes[".vl-disagreements-button"].textContent, "All lines");

    Object.assign(model.traits, blind_traits()); // the same part on a rater's board
    state.derive();
    bar.update();
    assert.equal(nodes[".vl-panel-bar"].dataset.mode, "blind");
    assert.match(nodes[".vl-panel-summary"].textContent, /^Blind panel: you rank alone/);
    assert.deepEqual(nodes[".vl-panel-raters"].children, [], "nothing of the other raters");
    assert.equal(nodes[".vl-disagreements-button"].hidden, true);

    Object.assign(model.traits, board_traits({ mode: "solo" }));
    state.derive();
    bar.update();
    assert.equal(nodes[".vl-panel-bar"].hidden, true);
    assert.equal(nodes[".vl-panel-button"].hidden, false, "shown (to leads: the styles hide it from others)");
    model.traits.locked = true;
    bar.update();
    assert.equal(nodes[".vl-panel-button"].hidden, true, "not on a locked batch");
  });
});

test("create_panel_dialog: lists the users who may rate, Blind on; closes when no longer offered", () => {
  with_document((element) => {
    const nodes = {
      ".vl-panel-dialog": element("div"), ".vl-panel-dialog-title": element("div"),
      ".vl-panel-choices": element("fieldset"), ".vl-panel-names": element("input"),
      ".vl-panel-blind": element("input"),
    };
    nodes[".vl-panel-dialog"].hidden = true;
    const root = fake_root(nodes);
    const traits = board_traits({ mode: "solo", allowed: [...ALLOWED.lead, "panel"], batch_id: "b1" });
    const model = fake_model({ ...traits, raters_offered: ["ann", "ben"] });
    const state = create_view_state(model);
    state.derive();
    const dialog = create_panel_dialog(root, model, state);
    nodes[".vl-panel-blind"].checked = false;
    dialog.open();
    assert.equal(dialog.is_open(), true);
    assert.equal(nodes[".vl-panel-dialog-title"].textContent, "Rate batch b1 as a panel");
    const boxes = nodes[".vl-panel-choices"].querySelectorAll();
    assert.deepEqual(boxes.map((b) => [b.type, b.value]), [["checkbox", "ann"], ["checkbox", "ben"]]);
    assert.equal(boxes[0].focused, 1, "the focus on the first choice");
    assert.equal(nodes[".vl-panel-blind"].checked, true, "blind by default");
    boxes[1].checked = true;
    nodes[".vl-panel-names"].value = "cat";
    assert.deepEqual(dialog.chosen(), { raters: ["ben", "cat"], blind: true });
    dialog.close();
    assert.equal(dialog.is_open(), false);
    assert.deepEqual(root.focused, [{ preventScroll: true }], "back to the board");
    dialog.open();
    model.traits.mode = "lead"; // a panel was opened elsewhere meanwhile
    dialog.update();
    assert.equal(dialog.is_open(), false);
    model.traits.allowed = ALLOWED.designer;
    model.traits.mode = "solo";
    dialog.open();
    assert.equal(dialog.is_open(), false, "a designer is never asked");
  });
});
