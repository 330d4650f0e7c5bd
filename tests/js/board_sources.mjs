// The ranking board's sources (voicelab/widgets/rank_board/, bundled by scripts/bundle.mjs into
// the shipped rank_board.js and rank_board.css), for tests that read the code as text: what it
// sends, which traits it reads, what the styles hide. Not a test file: the test files import it.
import { readdirSync, readFileSync } from "node:fs";

export const SOURCES = new URL("../../voicelab/widgets/rank_board/", import.meta.url);

/** The text of every source file ending in `ext` (".js", ".css"), in name order, joined. */
export function board_source(ext) {
  return readdirSync(SOURCES)
    .filter((name) => name.endsWith(ext))
    .sort()
    .map((name) => readFileSync(new URL(name, SOURCES), "utf-8"))
    .join("\n");
}
