import { test } from "node:test";
import assert from "node:assert/strict";
import { next_position } from "../../voicelab/widgets/take_player.js";

test("switching takes keeps the position", () => {
  assert.equal(next_position(1.25, 3.0), 1.25);
});

test("a finished or unknown position starts from the top", () => {
  assert.equal(next_position(3.0, 3.0), 0);
  assert.equal(next_position(NaN, 3.0), 0);
  assert.equal(next_position(-1, 3.0), 0);
});

test("an unknown duration keeps the position", () => {
  assert.equal(next_position(0.5, NaN), 0.5);
});
