/**
 * "Export selects…" on a locked batch: a delivery preset and a format, the layout it writes, and
 * the zip Python sends back offered as a download.
 */
import { focus_board, make_node } from "./dom.js";

/**
 * Offer `bytes` as the file `name` through the link `link`, and start the download: the link
 * stays shown ("Download <name>") for another try; the object URL it held before is released.
 * @param {{href: string, download: string, textContent: string, hidden: boolean,
 *   click: Function}} link an `<a>`
 * @param {ArrayBuffer|Uint8Array} bytes
 * @param {string} name
 * @param {string} type the file's MIME type
 */
export function offer_download(link, bytes, name, type) {
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([bytes], { type }));
  link.download = name;
  link.textContent = `Download ${name}`;
  link.hidden = false;
  link.click();
}

/**
 * The layout an export preset writes, for the export dialog: e.g. "Voices/en/<Function>.wav".
 * @param {{layout: string, format: string}} preset one of the `export_presets` trait
 * @param {string} format the chosen format ("" as generated: MP3)
 */
export function preset_layout(preset, format) {
  const path = preset.layout.replaceAll("{lang}", "en").replace(/\{(\w+)\}/g, (_, f) => `<${f[0].toUpperCase()}${f.slice(1)}>`);
  return `${path}.${format || "mp3"}`;
}

/**
 * What the export dialog may ask for `preset`: whether "as generated" (MP3) is one the preset's
 * tool imports, and the format to show (`format`, or "wav" when MP3 is not offered).
 * @param {{formats: string[]}|undefined} preset
 * @param {string} format "" (as generated) or "wav"
 */
export function export_format(preset, format) {
  const mp3 = !preset || preset.formats.includes("mp3");
  return { mp3, format: mp3 ? format : "wav" };
}

/**
 * "Export selects…", shown on a locked board: it opens the export dialog (a bar under the
 * toolbar) to choose a preset (`export_presets`: plain, wwise, unreal, fmod) and a format (as
 * generated, or WAV; "as generated" is disabled for a preset whose tool does not import MP3),
 * showing the layout it writes. `choice()` is what `actions.export_selects` sends; `start`
 * disables the button while Python builds the zip; `show` takes Python's `export` reply,
 * enables it again and offers the zip. Escape or Cancel close the dialog.
 * @param {{querySelector: Function, focus?: Function}} root the board's root element
 * @param {ReturnType<typeof create_view_state>} state
 * @param {{get: Function}} [model]
 */
export function create_export(root, state, model) {
  const button = root.querySelector(".vl-export-button");
  const link = root.querySelector(".vl-export-link");
  const dialog = root.querySelector(".vl-export-dialog");
  const preset_select = root.querySelector(".vl-export-preset");
  const format_select = root.querySelector(".vl-export-format");
  const layout_text = root.querySelector(".vl-export-layout");
  const presets = () => model?.get("export_presets") ?? [];
  const chosen = () => presets().find((p) => p.name === preset_select?.value) ?? presets()[0];
  /** The format choice and layout follow the preset. */
  const changed = () => {
    if (!format_select) return;
    const preset = chosen();
    const { mp3, format } = export_format(preset, format_select.value);
    format_select.options[0].disabled = !mp3;
    format_select.value = format;
    if (layout_text) layout_text.textContent = preset ? `→ ${preset_layout(preset, format)}` : "";
  };
  const fill = () => {
    if (!preset_select || preset_select.options.length === presets().length) return;
    preset_select.replaceChildren(...presets().map((p) => {
      const option = make_node("option", "", p.name);
      option.value = p.name;
      option.title = p.layout;
      return option;
    }));
  };
  const is_open = () => Boolean(dialog && !dialog.hidden);
  const open = () => {
    if (!dialog || !state.may("export") || !state.readonly()) return;
    fill();
    changed();
    dialog.hidden = false;
    preset_select.focus();
  };
  const close = () => {
    if (!dialog || dialog.hidden) return;
    dialog.hidden = true;
    focus_board(root);
  };
  const update = () => {
    button.hidden = !state.readonly();
    if (is_open() && !(state.may("export") && state.readonly())) dialog.hidden = true;
  };
  const start = () => {
    button.disabled = true;
  };
  /** Python's `export` reply (`data`: the zip, a DataView or an ArrayBuffer). */
  const show = (msg, data) => {
    button.disabled = false;
    if (msg.error || !data) return;
    const bytes =
      data instanceof ArrayBuffer ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    offer_download(link, bytes, msg.name, "application/zip");
  };
  /** What to export: `{preset, format}` (format null: as generated). */
  const choice = () => ({ preset: chosen()?.name ?? "plain", format: format_select?.value || null });
  return { update, start, show, open, close, is_open, changed, choice };
}
