// Presence on the board (voicelab/widgets/rank_board/presence.js): what the toolbar says, and
// what the board sends the server: a beat on start, at once when the line changes, the line
// it is on, and a DELETE when it goes; a server without the route stops it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { BEAT_MS, presence_label, start_presence } from "../../voicelab/widgets/rank_board/index.js";

test("presence_label: names and lines, or only how many for a panel's rater", () => {
  assert.equal(presence_label({ count: 0, others: [] }), "");
  assert.equal(
    presence_label({ count: 2, others: [{ name: "bob", line: "Line_3" }, { name: "ana", line: null }] }),
    "Also here: bob (Line_3), ana",
  );
  assert.equal(presence_label({ count: 1, others: [] }), "1 other person here");
  assert.equal(presence_label({ count: 3, others: [] }), "3 other people here");
});

function fake_root() {
  const badge = { textContent: "", hidden: true };
  return { badge, querySelector: (selector) => (selector === ".vl-presence" ? badge : null) };
}

function fake_state(line) {
  return { focused: "f1", line_of: () => line.current };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("start_presence: beats with its line, shows the others, and leaves on cleanup", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval", "Date"] });
  const sent = [];
  const answer = { count: 1, others: [{ name: "bob", line: "Line_2" }] };
  const send = async (url, init) => {
    sent.push({ url, ...init, body: init.body ? JSON.parse(init.body) : undefined });
    return { ok: true, status: 200, json: async () => ({ data: answer }) };
  };
  const root = fake_root();
  const line = { current: "Line_1" };
  const model = { get: (name) => (name === "batch_id" ? "20260101-090000-a1" : undefined) };
  const stop = start_presence(root, model, fake_state(line), { fetch: send });
  await tick();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].url, "/api/batch/20260101-090000-a1/presence");
  assert.equal(sent[0].method, "PUT");
  assert.equal(sent[0].body.line, "Line_1");
  assert.match(sent[0].body.view, /^[A-Za-z0-9_-]{8,64}$/);
  assert.equal(root.badge.textContent, "Also here: bob (Line_2)");
  assert.equal(root.badge.hidden, false);

  t.mock.timers.tick(500); // same line, within the beat: nothing sent
  await tick();
  assert.equal(sent.length, 1);
  line.current = "Line_4"; // a new line goes out at the next check
  t.mock.timers.tick(500);
  await tick();
  assert.equal(sent.length, 2);
  assert.equal(sent[1].body.line, "Line_4");
  t.mock.timers.tick(BEAT_MS); // and a beat keeps it alive
  await tick();
  assert.equal(sent.length, 3);
  assert.equal(sent[2].body.view, sent[0].body.view, "one view id for the tab");

  stop();
  const last = sent.at(-1);
  assert.equal(last.method, "DELETE");
  assert.equal(last.url, `/api/batch/20260101-090000-a1/presence?view=${sent[0].body.view}`);
  assert.equal(last.keepalive, true);
  t.mock.timers.tick(BEAT_MS * 2);
  await tick();
  assert.equal(sent.at(-1), last, "nothing after it left");
});

test("start_presence: where no VoiceLab server answers, it stops after one try", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval", "Date"] });
  let calls = 0;
  const send = async () => {
    calls += 1;
    return { ok: false, status: 404, json: async () => ({}) };
  };
  const root = fake_root();
  const model = { get: () => "b1" };
  const stop = start_presence(root, model, fake_state({ current: "L" }), { fetch: send });
  await tick();
  t.mock.timers.tick(BEAT_MS * 3);
  await tick();
  assert.equal(calls, 1);
  assert.equal(root.badge.hidden, true);
  stop();
  assert.equal(calls, 1, "no DELETE either");
});
