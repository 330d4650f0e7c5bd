// Builds the ranking board's shipped files from their sources (`make bundle` runs it when
// scripts/bundle_check.py finds them stale):
//
//   voicelab/widgets/rank_board/index.js   ->  voicelab/widgets/rank_board.js   (one ES module)
//   voicelab/widgets/rank_board/index.css  ->  voicelab/widgets/rank_board.css  (@imports inlined)
//
// anywidget loads the board's module from a Blob URL, so it can import nothing at run time:
// esbuild (pinned in package.json) bundles the sources, format esm, not minified, no source map.
// The built files are committed and ship in the package; the sources do not.
//
// Each built file's first line names the sha256 of the build's inputs (the .js and .css files
// under voicelab/widgets/rank_board/, this script and package-lock.json) and of its own body
// after that line, so scripts/bundle_check.py and tests/unit/test_board_bundle.py tell, without
// node, whether the shipped files match their sources. The same inputs build the same bytes.
//
//   node scripts/bundle.mjs              build into voicelab/widgets/
//   node scripts/bundle.mjs --out DIR    build into DIR instead (the reproducibility test)
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SOURCES = "voicelab/widgets/rank_board";
const ALSO = ["scripts/bundle.mjs", "package-lock.json"];
const BUILT_BY = `Built by scripts/bundle.mjs from ${SOURCES}/ (make bundle): edit the sources, not this file.`;
const BANNER = `/**
 * VoiceLab ranking board: the anywidget front end of voicelab/widgets/rank_board.py, bundled into
 * one ES module that imports nothing (anywidget loads it from a Blob URL). The sources, with
 * their comments, are in voicelab/widgets/rank_board/ (index.js first); docs/widget-protocol.md
 * describes the traits and messages between Python and this module.
 */`;
const CSS_BANNER = `/* VoiceLab ranking board's styles, from voicelab/widgets/rank_board/ (index.css first).
   anywidget injects them globally: every selector starts with .vl-rank-board. */`;

/**
 * The build's inputs, as repository-relative POSIX paths, sorted: the .js and .css files under
 * SOURCES (not an editor's backup or a dotfile), this script and package-lock.json.
 */
function inputs() {
  const walk = (dir) =>
    readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((entry) => {
      const rel = `${dir}/${entry.name}`;
      if (entry.name.startsWith(".")) return [];
      if (entry.isDirectory()) return walk(rel);
      return /\.(js|css)$/.test(entry.name) ? [rel] : [];
    });
  return [...walk(SOURCES), ...ALSO].sort();
}

/** sha256 over each input's path and bytes, in order (scripts/bundle_check.py computes the same). */
function inputs_digest() {
  const hash = createHash("sha256");
  for (const rel of inputs()) {
    hash.update(`${rel}\0`);
    hash.update(readFileSync(path.join(REPO, rel)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");

/** The file's header line, naming the inputs' digest and the body's. */
function with_header(body, digest, comment) {
  return `${comment(`${BUILT_BY} sources sha256 ${digest}, body sha256 ${sha256(body)}`)}\n${body}`;
}

/**
 * esbuild gathers a bundle's exports into one `export { ... }` at its end, the default among them
 * (`index_default as default`); write the default as its own `export default` statement, the form
 * anywidget's module loaders and tests/unit/test_widgets.py look for.
 */
function default_export_alone(code) {
  const match = code.match(/\nexport \{\n([^}]*)\n\};\n$/);
  if (!match) throw new Error("the bundle does not end with one export list");
  const entries = match[1].split(",\n").map((entry) => entry.trim());
  const defaults = entries.filter((entry) => entry.endsWith(" as default"));
  if (defaults.length !== 1) throw new Error("the bundle has no default export");
  const named = entries.filter((entry) => entry !== defaults[0]).map((entry) => `  ${entry}`);
  const local = defaults[0].slice(0, -" as default".length);
  return `${code.slice(0, match.index)}\nexport {\n${named.join(",\n")}\n};\nexport default ${local};\n`;
}

async function build(out_dir) {
  const esbuild = await import("esbuild");
  const common = {
    absWorkingDir: REPO,
    bundle: true,
    write: false,
    minify: false,
    sourcemap: false,
    charset: "utf8",
    legalComments: "none",
    logLevel: "warning",
  };
  const js = await esbuild.build({
    ...common,
    entryPoints: [`${SOURCES}/index.js`],
    outfile: "rank_board.js",
    format: "esm",
    platform: "browser",
    target: "esnext",
    banner: { js: BANNER },
  });
  const css = await esbuild.build({
    ...common,
    entryPoints: [`${SOURCES}/index.css`],
    outfile: "rank_board.css",
    banner: { css: CSS_BANNER },
  });
  const digest = inputs_digest();
  const files = {
    "rank_board.js": with_header(default_export_alone(js.outputFiles[0].text), digest, (t) => `// ${t}`),
    "rank_board.css": with_header(css.outputFiles[0].text, digest, (t) => `/* ${t} */`),
  };
  mkdirSync(out_dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const target = path.join(out_dir, name);
    let old = null;
    try {
      old = readFileSync(target, "utf8");
    } catch {
      // not built yet
    }
    if (old === text) continue;
    writeFileSync(target, text);
    console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
  }
}

const args = process.argv.slice(2);
const out = args[0] === "--out" && args[1] ? path.resolve(args[1]) : path.join(REPO, "voicelab/widgets");
if (args.length && !(args[0] === "--out" && args.length === 2)) {
  console.error("usage: node scripts/bundle.mjs [--out DIR]");
  process.exit(2);
}
await build(out);
