// The board's cascade against the table of cases shared with voicelab.ranking.cascade
// (tests/unit/test_rank_cascade_table.py reads the same file), so the two cannot drift apart.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { cascade } from "../../voicelab/widgets/rank_board/index.js";

const CASES_URL = new URL("../data/rank_cascade_cases.json", import.meta.url);
const cases = JSON.parse(readFileSync(CASES_URL, "utf-8"));

test("the shared table has at least ten uniquely named cases", () => {
  assert.ok(cases.length >= 10, `${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

for (const c of cases) {
  test(`cascade: ${c.name}`, () => {
    const before = structuredClone(c.ranks);
    assert.deepEqual(cascade(c.ranks, c.file, c.rank), c.expected);
    assert.deepEqual(c.ranks, before, "cascade must not change its input");
  });
}
