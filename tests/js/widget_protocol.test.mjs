// Python and JS agree on the widget protocol, and docs/widget-protocol.md lists all of it: every
// message kind one side sends, the other handles, and the doc has a section for it; every trait
// the JS reads is synced by the Python class and in the doc's trait table. Messages are found by
// how each side writes them: JS `model.send({ kind: "x", ...})` and `msg?.kind === "x"` (in the
// board's sources), Python `kind == "x"` in RankBoard.handle or a `"x": ...` key of its MESSAGES
// table, and `self.send({"kind": "x", ...})`.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { board_source } from "./board_sources.mjs";

const read = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf-8");
const all = (source, pattern) => new Set([...source.matchAll(pattern)].map((m) => m[1]));
const sorted = (set) => [...set].sort();

// RankBoard's module, and the board_*.py modules it may split its handlers into.
const board_py = ["rank_board.py", ...readdirSync(new URL("../../voicelab/widgets/", import.meta.url))
  .filter((name) => /^board_\w+\.py$/.test(name)).sort()]
  .map((name) => read(`voicelab/widgets/${name}`)).join("\n");
const board_js = board_source(".js"); // voicelab/widgets/rank_board/*.js, bundled into rank_board.js
const doc = read("docs/widget-protocol.md");

/** The `####` headings (first code span) under the `###` section titled `title`. */
function documented(title) {
  const start = doc.indexOf(`\n### ${title}\n`);
  assert.ok(start >= 0, `docs/widget-protocol.md has no "### ${title}" section`);
  const rest = doc.slice(start + 1);
  const end = rest.slice(1).search(/\n#{1,3} /);
  return all(end < 0 ? rest : rest.slice(0, end + 1), /^#### `(\w+)`/gm);
}

/** The kinds RankBoard handles: `kind == "x"` branches, or the keys of its MESSAGES table. */
function handled(source) {
  const table = source.match(/^MESSAGES\b[^=\n]*= \{\n([\s\S]*?)\n\}/m)?.[1] ?? "";
  return new Set([...all(source, /kind == "(\w+)"/g), ...all(table, /^ {4}"(\w+)":/gm)]);
}

/** Names of the traits a widget's Python class syncs. */
const synced = (source) => all(source, /^ {4}(\w+) = traitlets\.\w+\(.*\.tag\(sync=True\)/gm);

test("every kind the board's JS sends is handled by RankBoard.handle, and back", () => {
  const js_sends = all(board_js, /model\.send\(\{ kind: "(\w+)"/g);
  const py_handles = handled(board_py);
  assert.deepEqual(sorted(js_sends), ["audio", "close", "export", "lock", "more", "more_estimate",
    "note", "override", "panel", "rank", "refresh", "reopen", "undo", "unlock"]);
  assert.deepEqual(sorted(py_handles), sorted(js_sends));
  const py_sends = all(board_py, /"kind": "(\w+)"/g);
  const js_handles = all(board_js, /msg\?\.kind === "(\w+)"/g);
  assert.deepEqual(sorted(py_sends), ["ack", "audio", "export", "more", "more_estimate"]);
  assert.deepEqual(sorted(js_handles), sorted(py_sends));
});

test("docs/widget-protocol.md has a section for every message, in its direction", () => {
  assert.deepEqual(sorted(documented("Browser → Python")), sorted(handled(board_py)));
  assert.deepEqual(sorted(documented("Python → browser")), sorted(all(board_py, /"kind": "(\w+)"/g)));
});

test("the traits the board's JS reads are synced by RankBoard and listed in the doc", () => {
  const traits = synced(board_py);
  assert.ok(traits.has("takes") && traits.has("refresh_ms"), sorted(traits).join(" "));
  const read_by_js = new Set([
    ...all(board_js, /model\.get\("(\w+)"\)/g),
    ...all(board_js, /"change:(\w+)"/g),
  ]);
  for (const name of read_by_js) assert.ok(traits.has(name), `JS reads "${name}", not a synced trait`);
  for (const name of traits) assert.match(doc, new RegExp(`^\\| \`${name}\` \\|`, "m"), name);
});

test("TakePlayer's traits are in the doc, and it has no custom messages", () => {
  const player_py = read("voicelab/widgets/take_player.py");
  const player_js = read("voicelab/widgets/take_player.js");
  const traits = synced(player_py);
  assert.deepEqual(sorted(traits), ["audio", "takes"]);
  const section = doc.slice(doc.indexOf("## TakePlayer"), doc.indexOf("## Adding a message"));
  for (const name of traits) assert.match(section, new RegExp(`^\\| \`${name}\` \\|`, "m"), name);
  assert.doesNotMatch(player_py, /on_msg|\.send\(/);
  assert.doesNotMatch(player_js, /model\.send|msg:custom/);
});
