"""A panel's consensus and agreement on one line: pure functions over the raters' ranks.

Each rater ranks up to five takes of a line (1 = best) and leaves the rest unranked. Only the
raters who ranked at least one take of a line take part in that line.

**Consensus: Borda count.** A rank r earns a take `6 - r` points (rank 1: 5 points, rank 5:
1 point, unranked: 0) from each taking-part rater. Takes are ordered by points, most first; ties
are broken by the count of first places, then of second places, and so on (the take more raters
put higher wins), then by the line's take order (lower take number first), so the result is
deterministic and can be checked by hand. The first five takes with any points get consensus
ranks 1-5; a take no rater ranked stays unranked. Borda is chosen over a fitted model
(Plackett-Luce) because a line has few raters and takes: it is exact, explainable to a
designer in one sentence, and costs microseconds per line.

**Agreement: Kendall's W** (coefficient of concordance) with the correction for ties, over the
line's takes that at least one taking-part rater ranked (takes nobody ranked would only add
agreement about what everyone ignored): each rater's ranking of those is made complete by
giving their unranked ones the average of the positions left (tied at the bottom). W is 1
when every rater ordered the takes alike and near 0 when their orders are unrelated; it needs
two raters and two takes (else None). Each rater's agreement with the consensus is Kendall's
tau-b between their completed ranking and the consensus's over the same takes, -1..1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

RANK_POINTS = 6
"""A rank r earns RANK_POINTS - r Borda points."""
MAX_RANK = 5

RaterRanks = Mapping[str, Mapping[str, int]]
"""rater -> {file: rank} (only the takes that rater ranked)."""


def taking_part(rater_ranks: RaterRanks, files: Sequence[str]) -> list[str]:
    """The raters who ranked at least one of `files`, in the order given."""
    wanted = set(files)
    return [name for name, ranks in rater_ranks.items() if wanted.intersection(ranks)]


def borda(rater_ranks: RaterRanks, files: Sequence[str]) -> dict[str, int | None]:
    """The consensus ranks of one line's `files` (in take order): `{file: rank or None}`."""
    points = dict.fromkeys(files, 0)
    places = {name: [0] * MAX_RANK for name in files}
    for name in taking_part(rater_ranks, files):
        for file, rank in rater_ranks[name].items():
            if file in points:
                points[file] += RANK_POINTS - rank
                places[file][rank - 1] += 1
    order = sorted(
        (file for file in files if points[file] > 0),
        key=lambda file: (-points[file], [-count for count in places[file]]),
    )  # sorted() is stable: equal keys keep take order
    result: dict[str, int | None] = dict.fromkeys(files)
    for position, file in enumerate(order[:MAX_RANK], start=1):
        result[file] = position
    return result


def complete_ranking(ranks: Mapping[str, int | None], files: Sequence[str]) -> np.ndarray:
    """Positions 1..n for every file: ranked ones by rank, the rest tied at the bottom (their
    positions' average); as floats in `files` order."""
    ranked = sorted((rank, index) for index, file in enumerate(files)
                    if (rank := ranks.get(file)) is not None)
    result = np.empty(len(files))
    for position, (_rank, index) in enumerate(ranked, start=1):
        result[index] = position
    rest = [i for i, file in enumerate(files) if ranks.get(file) is None]
    if rest:
        result[rest] = (len(ranked) + 1 + len(files)) / 2
    return result


def ranked_files(rater_ranks: RaterRanks, files: Sequence[str]) -> list[str]:
    """The `files` at least one rater ranked, in the order given."""
    held = {file for ranks in rater_ranks.values() for file in ranks}
    return [file for file in files if file in held]


def kendalls_w(rater_ranks: RaterRanks, files: Sequence[str]) -> float | None:
    """Kendall's W of the taking-part raters over the `files` any of them ranked, corrected
    for ties (None: fewer than two raters or such takes, or no spread at all)."""
    raters = taking_part(rater_ranks, files)
    files = ranked_files(rater_ranks, files)
    m, n = len(raters), len(files)
    if m < 2 or n < 2:
        return None
    matrix = np.array([complete_ranking(rater_ranks[name], files) for name in raters])
    sums = matrix.sum(axis=0)
    spread = float(((sums - sums.mean()) ** 2).sum())
    ties = 0.0
    for row in matrix:
        _values, counts = np.unique(row, return_counts=True)
        ties += float((counts**3 - counts).sum())
    denominator = m * m * (n**3 - n) - m * ties
    if denominator <= 0:
        return None
    return round(min(1.0, 12 * spread / denominator), 4)


def rater_tau(ranks: Mapping[str, int | None], consensus: Mapping[str, int | None],
              files: Sequence[str]) -> float | None:
    """Kendall's tau-b between one rater's completed ranking and the consensus's (None: either
    has no spread, or fewer than two takes). Over all pairs, tau-b is the cosine of the two
    rankings' pairwise order signs, which numpy computes at once for a line's few takes."""
    if len(files) < 2:
        return None
    mine, theirs = complete_ranking(ranks, files), complete_ranking(consensus, files)
    upper = np.triu_indices(len(files), 1)
    a = np.sign(mine[:, None] - mine[None, :])[upper]
    b = np.sign(theirs[:, None] - theirs[None, :])[upper]
    spread = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if spread == 0:
        return None
    return round(float((a * b).sum()) / spread, 4)
