// node --test over the pure exports of the ranking board (no DOM, no audio).
import assert from "node:assert/strict";
import { test } from "node:test";

import board, {
  action_for_key,
  apply_pending,
  audio_url,
  cascade,
  format_duration,
  gain_factor,
  group_takes,
  layout,
  peaks_from_samples,
  position_at,
  progress,
  settings_label,
  step_line,
  step_take,
  stored_peaks,
  switch_offset,
  visible_lines,
  visible_range,
} from "../../voicelab/widgets/rank_board.js";

const take = (file, line, take_number, rank = null) => ({ file, line, take_number, rank });

test("the module is an anywidget: default export with render", () => {
  assert.equal(typeof board.render, "function");
});

test("cascade follows DESIGN decision 1's worked example", () => {
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
  assert.equal(action_for_key({ key: "6" }), null);
  assert.equal(action_for_key({ key: "x" }), null);
  assert.equal(action_for_key({ key: "1", ctrlKey: true }), null);
  assert.equal(action_for_key({ key: "j", metaKey: true }), null);
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
