// The shipped board (voicelab/widgets/rank_board.js, built by scripts/bundle.mjs from
// voicelab/widgets/rank_board/) against its sources: one ES module that imports nothing and
// exports what the sources' entry exports, so what the other tests check of the sources holds
// for what anywidget loads. tests/unit/test_board_bundle.py checks that it is built from the
// sources as they are now.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import shipped_board, * as shipped from "../../voicelab/widgets/rank_board.js";
import source_board, * as sources from "../../voicelab/widgets/rank_board/index.js";

const shipped_text = readFileSync(new URL("../../voicelab/widgets/rank_board.js", import.meta.url), "utf-8");

test("the shipped module exports what the sources' entry exports, of the same kinds", () => {
  assert.deepEqual(Object.keys(shipped).sort(), Object.keys(sources).sort());
  for (const name of Object.keys(sources)) {
    assert.equal(typeof shipped[name], typeof sources[name], name);
    if (typeof sources[name] !== "function" && typeof sources[name] !== "object") {
      assert.equal(shipped[name], sources[name], name);
    }
  }
});

test("the shipped module is an anywidget: a default export with render", () => {
  assert.equal(typeof shipped_board.render, "function");
  assert.deepEqual(Object.keys(shipped_board), Object.keys(source_board));
  assert.match(shipped_text, /^export default \w+;$/m);
});

test("the shipped module imports nothing (anywidget loads it from a Blob URL)", () => {
  assert.doesNotMatch(shipped_text, /^\s*import\b|\bimport\s*\(|\brequire\(/m);
});

test("the shipped helpers behave as the sources' do", () => {
  const ranks = { a: 1, b: 2, c: null };
  assert.deepEqual(shipped.cascade(ranks, "c", 1), sources.cascade(ranks, "c", 1));
  const event = { key: "z", ctrlKey: true };
  assert.deepEqual(shipped.action_for_key(event), sources.action_for_key(event));
  assert.equal(shipped.refusal("viewer", "rank"), sources.refusal("viewer", "rank"));
});
