// node --test over the board's "Export selects…" dialog (issue 16): a delivery preset and a
// format, the layout it writes, "as generated" only where the preset's tool imports MP3; the
// message it sends; Enter exports, Escape cancels. Plain fakes: a tiny `document` for options.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  bind_keys,
  create_actions,
  create_export,
  create_view_state,
  export_format,
  preset_layout,
} from "../../voicelab/widgets/rank_board/index.js";

class Node {
  constructor(tag) {
    this.tag = tag;
    this.hidden = false;
    this.disabled = false;
    this.textContent = "";
    this.value = "";
    this.focused = 0;
    this.options = [];
  }
  replaceChildren(...nodes) {
    this.options = nodes;
    if (!nodes.some((n) => n.value === this.value)) this.value = nodes[0]?.value ?? "";
  }
  focus() {
    this.focused += 1;
  }
}
globalThis.document = { createElement: (tag) => new Node(tag), activeElement: null };

const PRESETS = [
  { name: "plain", layout: "{function}", format: "mp3", formats: ["wav", "flac", "mp3", "ogg"] },
  { name: "unreal", layout: "{lang}/{function}", format: "wav", formats: ["wav", "flac", "ogg"] },
  { name: "wwise", layout: "Voices/{lang}/{function}", format: "wav", formats: ["wav"] },
  { name: "fmod", layout: "{lang}/{skin}_{function}", format: "wav", formats: ["wav", "flac", "mp3", "ogg"] },
];

function fake_model(extra = {}) {
  const traits = {
    takes: [{ file: "a1", line: "A", take_number: 1, rank: 1 }],
    lines: [{ line: "A" }],
    locked: true,
    role: "lead",
    allowed: ["listen", "lock", "unlock", "export"],
    export_presets: PRESETS,
    ...extra,
  };
  return { traits, sent: [], get: (name) => traits[name], send(msg) { this.sent.push(msg); } };
}

function export_parts() {
  const format = new Node("select");
  format.options = [new Node("option"), new Node("option")];
  format.options[1].value = "wav";
  const nodes = {
    ".vl-export-button": new Node("button"),
    ".vl-export-link": new Node("a"),
    ".vl-export-dialog": new Node("div"),
    ".vl-export-preset": new Node("select"),
    ".vl-export-format": format,
    ".vl-export-layout": new Node("span"),
  };
  nodes[".vl-export-dialog"].hidden = true;
  const root = { nodes, focused: 0, querySelector: (s) => nodes[s] ?? null, focus() { this.focused += 1; } };
  return { nodes, root };
}

test("preset_layout: the path a preset writes, fields named, the format's extension", () => {
  assert.equal(preset_layout(PRESETS[2], "wav"), "Voices/en/<Function>.wav");
  assert.equal(preset_layout(PRESETS[3], ""), "en/<Skin>_<Function>.mp3");
  assert.equal(preset_layout(PRESETS[0], ""), "<Function>.mp3");
});

test("export_format: as generated (MP3) only where the preset's tool imports it", () => {
  assert.deepEqual(export_format(PRESETS[0], ""), { mp3: true, format: "" });
  assert.deepEqual(export_format(PRESETS[2], ""), { mp3: false, format: "wav" });
  assert.deepEqual(export_format(PRESETS[1], "wav"), { mp3: false, format: "wav" });
  assert.deepEqual(export_format(undefined, ""), { mp3: true, format: "" });
});

test("create_export: opens on a locked board with the presets; the format follows the preset", () => {
  const model = fake_model();
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const { nodes, root } = export_parts();
  const exporter = create_export(root, state, model);
  exporter.update();
  assert.equal(nodes[".vl-export-button"].hidden, false);
  exporter.open();
  assert.equal(exporter.is_open(), true);
  const presets = nodes[".vl-export-preset"];
  assert.deepEqual(presets.options.map((o) => o.value), ["plain", "unreal", "wwise", "fmod"]);
  assert.equal(presets.focused, 1, "the keyboard starts on the preset");
  assert.deepEqual(exporter.choice(), { preset: "plain", format: null });
  assert.equal(nodes[".vl-export-layout"].textContent, "→ <Function>.mp3");
  presets.value = "wwise";
  exporter.changed();
  assert.equal(nodes[".vl-export-format"].options[0].disabled, true, "Wwise imports no MP3");
  assert.deepEqual(exporter.choice(), { preset: "wwise", format: "wav" });
  assert.equal(nodes[".vl-export-layout"].textContent, "→ Voices/en/<Function>.wav");
  presets.value = "fmod";
  nodes[".vl-export-format"].value = "";
  exporter.changed();
  assert.equal(nodes[".vl-export-format"].options[0].disabled, false);
  assert.deepEqual(exporter.choice(), { preset: "fmod", format: null });
  exporter.close();
  assert.equal(exporter.is_open(), false);
  assert.equal(root.focused, 1, "back to the board");
  model.traits.locked = false; // unlocked: nothing to export
  exporter.open();
  assert.equal(exporter.is_open(), false);
});

test("create_export: a designer's board never opens it; unlocked elsewhere it closes", () => {
  const model = fake_model({ allowed: ["listen", "rank"] });
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const { root } = export_parts();
  const exporter = create_export(root, state, model);
  exporter.open();
  assert.equal(exporter.is_open(), false);
  model.traits.allowed = ["listen", "export"];
  exporter.open();
  assert.equal(exporter.is_open(), true);
  model.traits.locked = false;
  exporter.update();
  assert.equal(exporter.is_open(), false);
});

test("actions.export_selects: the preset and format when chosen; rank 1 alone otherwise", () => {
  const model = fake_model();
  const state = create_view_state(model, { view_id: "v" });
  state.derive();
  const renderer = { show_local: () => assert.fail("nothing refused"), schedule: () => {} };
  const actions = create_actions(model, state, { player: { playing: false } }, renderer);
  actions.export_selects({ preset: "unreal", format: "wav" });
  actions.export_selects();
  assert.deepEqual(model.sent, [
    { kind: "export", rank: 1, preset: "unreal", format: "wav" },
    { kind: "export", rank: 1 },
  ]);
});

test("bind_keys: with the export dialog open Enter exports and Escape cancels", () => {
  const state = create_view_state(fake_model(), { view_id: "v" });
  state.derive();
  const root = new EventTarget();
  const log = [];
  const renderer = {
    export_open: () => true,
    close_export: () => log.push("close"),
    start_export: () => log.push("start"),
    export_choice: () => ({ preset: "wwise", format: "wav" }),
    confirm_open: () => false,
    schedule: () => {},
  };
  const actions = { export_selects: (choice) => log.push(choice), send_rank: () => log.push("rank") };
  const cleanup = bind_keys(root, { state, audio: {}, renderer, actions });
  const key = (name, on = "select") => {
    const event = new Event("keydown", { cancelable: true });
    Object.defineProperty(event, "key", { value: name });
    Object.defineProperty(event, "target", { value: { matches: (s) => s === on } });
    root.dispatchEvent(event);
    return event;
  };
  assert.equal(key("ArrowDown").defaultPrevented, false, "the select's own keys");
  assert.equal(key("1").defaultPrevented, false);
  assert.equal(key("Enter", "button").defaultPrevented, false, "a focused button clicks itself");
  assert.equal(key("Enter").defaultPrevented, true);
  key("Escape");
  assert.deepEqual(log, ["start", { preset: "wwise", format: "wav" }, "close", "close"]);
  cleanup();
});
