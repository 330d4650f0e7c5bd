"""Which settings win, learnt from every judgement: Plackett-Luce strengths per settings bucket.

For audio leads in explore.ipynb. Every rater's ordering of every line, across all batches under
AUDIO_ROOT, is one **judgement**:

- a **panel** batch (top-level `panel` not None, docs/design.md, decision 12): one judgement
  per rater per line from the takes' `ranks_by` (the takes that rater ranked, best first, all above
  the line's takes that rater left unranked). The seed's `rank` is only the panel's consensus,
  computed from those same orderings, so it is not counted again.
- a **solo** batch: one judgement per ranked line from `rank` (ranked takes best first, above the
  line's unranked takes); the judge is the takes' `ranked_by`, or "solo" when nobody is named.

Lines nobody ranked give no judgement.

**Buckets.** Each setting's range (`voicelab.jobspec.SETTING_LIMITS`) is cut into equal buckets
(`BUCKET_WIDTHS`): 0.1 wide for stability, similarity_boost and style over 0..1 (10 buckets),
0.05 wide for speed over 0.7..1.2 (10 buckets). A bucket holds its low edge, not its high one,
except the last bucket, which holds the top of the range too; values outside the range are
clipped into it.

**Model.** Per voice and per setting, a Plackett-Luce model whose items are that setting's
buckets: a take's worth is its bucket's worth w_b = exp(theta_b). A judgement that ranked k of a
line's n takes is k choices (the best of all n, the best of the n-1 left, ..., the k-th best of
the n-k+1 left), each with probability w_winner / (sum of the worths of the takes left), takes
sharing a bucket each counting. Takes lacking the setting are left out of that setting's
choices (Plackett-Luce orderings stay Plackett-Luce on any subset of the takes); a choice among
takes of one bucket only carries no information and is dropped. The fit maximises the
log-likelihood minus `alpha * sum(theta**2)` (the objective of `choix.opt_top1`, a Gaussian prior
that pulls buckets with few judgements towards the average), by Newton's method on the
distinct choices weighted by how often each occurs, vectorised over bootstrap resamples (choix's
own routines loop in Python per choice and its Newton fit assumes distinct items in a choice,
which buckets are not). The penalty makes the fitted strengths (log-worths) sum to 0: a
strength is relative to the average of the buckets that voice tried.

Each setting is fitted on its own (its marginal effect): when two settings always moved
together in the batches, each gets the credit of both.

**Intervals.** 95 % percentile bootstrap: the judgements are resampled with replacement
(`resamples` times, a fixed `seed`, so the same data gives the same figures) and refitted.

Speed: the distinct choices are few (a choice is a winning bucket and the count of takes per
bucket left), so ~100,000 judgements fit with 200 resamples in seconds.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from voicelab import store
from voicelab.errors import MetadataError
from voicelab.jobspec import SETTING_LIMITS

log = logging.getLogger(__name__)

SETTINGS = tuple(SETTING_LIMITS)
BUCKET_WIDTHS: dict[str, float] = {
    "stability": 0.1, "similarity_boost": 0.1, "style": 0.1, "speed": 0.05}
"""Bucket width per setting, in the setting's units (its range is in SETTING_LIMITS)."""
DEFAULT_RESAMPLES = 200
MAX_RESAMPLES = 2000
DEFAULT_ALPHA = 0.1
"""Ridge penalty on the log-worths (prior variance 1 / (2 alpha) = 5)."""
SURE, LIKELY = 0.9, 0.7
"""Sureness thresholds: see suggest_ranges."""
SURE_JUDGEMENTS, LIKELY_JUDGEMENTS = 20, 8
"""Fewest judgements for "sure" and for "likely": a bootstrap of a handful of orderings that
happen to agree cannot see how they might have gone otherwise."""
_CHUNK_CELLS = 4_000_000  # resamples x judgements held at once while resampling


@dataclass(frozen=True)
class Judgement:
    """One rater's ordering of one line: `ordering` best first, above every take in `unranked`.

    Takes are the batch's take dicts as stored (`generation_settings` holds the settings).
    """

    voice: str
    batch_id: str
    line: str
    rater: str
    ordering: list[dict[str, Any]]
    unranked: list[dict[str, Any]]


@dataclass(frozen=True)
class BucketStrength:
    """One bucket of one setting: its strength (log-worth, 0 = the voice's average bucket) and
    the 95 % bootstrap interval, with how many judgements had a take in it."""

    low_edge: float
    high_edge: float
    centre: float
    strength: float
    low: float
    high: float
    judgements: int


@dataclass(frozen=True)
class SettingStrengths:
    """A voice's fit for one setting: the buckets its takes used, in ascending order.

    `best_counts[i]` is how many bootstrap resamples put bucket i on top.
    """

    voice: str
    setting: str
    buckets: tuple[BucketStrength, ...]
    judgements: int
    resamples: int
    best_counts: tuple[int, ...]


@dataclass(frozen=True)
class Strengths:
    """Every fit: `fits[voice][setting]`, only where the voice's takes used two buckets or more
    and some judgement chose between them."""

    fits: dict[str, dict[str, SettingStrengths]] = field(default_factory=dict)
    judgements: int = 0
    raters: tuple[str, ...] = ()
    batches: int = 0


@dataclass(frozen=True)
class Suggestion:
    """A range of one setting for a voice's next batch, and how sure the analysis is of it.

    `sureness` is the share of bootstrap resamples whose best bucket lies inside [low, high];
    `wording` says it for an audio lead ("sure", "likely" or "a guess") and `note` explains.
    """

    low: float
    high: float
    best: float
    sureness: float
    wording: str
    note: str
    judgements: int


# -- judgements -------------------------------------------------------------------------------


def judgements(root: Path) -> list[Judgement]:
    """Every judgement of every batch under root (see the module docstring for the contract).

    A batch whose metadata cannot be read is logged and skipped, never raised.
    """
    found: list[Judgement] = []
    for record in store.find_batches(root):
        try:
            meta = store.load_metadata(Path(record["path"]), check_files=False)
        except MetadataError as exc:
            log.warning("strength analysis skips a batch: %s", exc)
            continue
        found.extend(batch_judgements(meta))
    return found


def _valid_rank(rank: Any) -> bool:
    return type(rank) is int and 1 <= rank <= 5


def batch_judgements(meta: store.Metadata) -> list[Judgement]:
    """The judgements of one batch's metadata: per rater per line in a panel, per line solo."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for take in meta.get("takes") or []:
        if isinstance(take, dict) and isinstance(take.get("line"), str):
            lines.setdefault(take["line"], []).append(take)
    voice, batch_id = str(meta.get("voice_name", "")), str(meta.get("batch_id", ""))
    panel = meta.get("panel") is not None
    found = []
    for line, takes in lines.items():
        if panel:
            raters = sorted({name for t in takes for name, rank in _ranks_by(t).items()
                             if _valid_rank(rank)})
            for rater in raters:
                ranked = _rater_ordering(takes, rater)
                chosen = {id(t) for t in ranked}
                found.append(Judgement(voice, batch_id, line, rater, ranked,
                                       [t for t in takes if id(t) not in chosen]))
        else:
            ranked = sorted((t for t in takes if _valid_rank(t.get("rank"))),
                            key=lambda t: t["rank"])
            if ranked:
                judges = Counter(t["ranked_by"] for t in ranked
                                 if isinstance(t.get("ranked_by"), str) and t["ranked_by"])
                rater = min(judges, key=lambda n: (-judges[n], n)) if judges else "solo"
                found.append(Judgement(voice, batch_id, line, rater, ranked,
                                       [t for t in takes if not _valid_rank(t.get("rank"))]))
    return found


def _rater_ordering(takes: list[dict[str, Any]], rater: str) -> list[dict[str, Any]]:
    ranked = [(int(rank), t) for t in takes if _valid_rank(rank := _ranks_by(t).get(rater, 0))]
    return [t for _, t in sorted(ranked, key=lambda pair: pair[0])]


def _ranks_by(take: dict[str, Any]) -> dict[str, Any]:
    ranks = take.get("ranks_by")
    return ranks if isinstance(ranks, dict) else {}


# -- buckets ----------------------------------------------------------------------------------


def bucket_count(setting: str) -> int:
    """How many buckets `setting` is cut into."""
    low, high, _ = SETTING_LIMITS[setting]
    return round((high - low) / BUCKET_WIDTHS[setting])


def bucket_edges(setting: str) -> list[tuple[float, float]]:
    """`(low_edge, high_edge)` of each of the setting's buckets, in ascending order."""
    low, _, _ = SETTING_LIMITS[setting]
    width = BUCKET_WIDTHS[setting]
    return [(round(low + i * width, 6), round(low + (i + 1) * width, 6))
            for i in range(bucket_count(setting))]


def bucket_of(setting: str, value: Any) -> int | None:
    """The bucket index of a value of `setting` (clipped into its range); None when the value
    is not a finite number."""
    index = int(_bucket_indices(setting, np.array([_number(value)]))[0])
    return None if index < 0 else index


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _bucket_indices(setting: str, values: np.ndarray) -> np.ndarray:
    """Bucket index per value (-1 for NaN and infinities), as bucket_of."""
    low, high, _ = SETTING_LIMITS[setting]
    finite = np.isfinite(values)
    position = (np.clip(np.where(finite, values, low), low, high) - low) / BUCKET_WIDTHS[setting]
    index = np.minimum(np.floor(np.round(position, 9)), bucket_count(setting) - 1)
    return np.where(finite, index, -1).astype(np.int64)


def _settings_of(take: dict[str, Any]) -> dict[str, Any]:
    settings = take.get("generation_settings")
    return settings if isinstance(settings, dict) else {}


def _bucket_table(takes: list[dict[str, Any]]) -> np.ndarray:
    """(takes, SETTINGS) bucket indices, -1 where a take lacks a usable value."""
    values = np.array([[_number(_settings_of(take).get(name)) for name in SETTINGS]
                       for take in takes], dtype=float).reshape(-1, len(SETTINGS))
    return np.column_stack([_bucket_indices(name, values[:, i])
                            for i, name in enumerate(SETTINGS)]).reshape(-1, len(SETTINGS))


# -- the fit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Choices:
    """A voice's choices for one setting: distinct choices and who made them."""

    counts: np.ndarray  # (events, buckets): takes per bucket in the choice set
    winners: np.ndarray  # (events,): the chosen bucket
    incidence: sparse.csr_matrix  # (judgements, events): how often judgement j made event e
    buckets: np.ndarray  # indices (into bucket_edges) of the buckets kept, ascending


def _choices(j_of: np.ndarray, position: np.ndarray, ranked: np.ndarray, bucket: np.ndarray,
             n_judgements: int) -> _Choices | None:
    """Build the distinct choices from entries sorted by (judgement, position).

    One entry per (judgement, take); `position` is the take's place in the ordering (unranked
    takes all sit after the ranked ones); entries whose take lacks the setting are already gone.
    """
    if not len(j_of):
        return None
    starts = np.flatnonzero(np.r_[True, j_of[1:] != j_of[:-1]])
    sizes = np.diff(np.r_[starts, len(j_of)])
    group = np.repeat(np.arange(len(starts)), sizes)
    k = np.bincount(group, weights=ranked, minlength=len(starts)).astype(np.int64)
    # After dropping takes without the setting, ranked takes are the first k of each judgement.
    new_position = np.where(ranked, np.arange(len(j_of)) - starts[group], k[group])
    offsets = np.r_[0, np.cumsum(k)]  # choice rows of judgement g: offsets[g] .. offsets[g+1]
    n_rows = int(offsets[-1])
    if n_rows == 0:
        return None
    n_buckets = int(bucket.max()) + 1
    # A take sits in the choice sets 0 .. min(position, k-1) of its judgement: a difference array.
    diff = np.zeros((n_rows + 1, n_buckets), dtype=np.int64)
    keep = k[group] > 0
    g, b = group[keep], bucket[keep]
    np.add.at(diff, (offsets[g], b), 1)
    np.add.at(diff, (offsets[g] + np.minimum(new_position[keep], k[g] - 1) + 1, b), -1)
    counts = np.cumsum(diff, axis=0)[:n_rows]
    winners = np.empty(n_rows, dtype=np.int64)
    is_ranked = ranked & keep
    winners[offsets[group[is_ranked]] + new_position[is_ranked]] = bucket[is_ranked]
    row_judgement = np.repeat(j_of[starts], k)
    informative = (counts > 0).sum(axis=1) >= 2
    if not informative.any():
        return None
    counts, winners, row_judgement = (counts[informative], winners[informative],
                                      row_judgement[informative])
    present = np.flatnonzero(counts.sum(axis=0) > 0)
    remap = np.full(n_buckets, -1)
    remap[present] = np.arange(len(present))
    counts, winners = counts[:, present], remap[winners]
    events, inverse = _distinct_rows(np.column_stack([winners, counts]))
    incidence = sparse.csr_matrix(
        (np.ones(len(inverse)), (row_judgement, inverse.ravel())),
        shape=(n_judgements, len(events)))
    return _Choices(events[:, 1:].astype(float), events[:, 0], incidence, present)


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(rows, axis=0, return_inverse=True), by one integer key per row when the
    values fit one (several times faster than sorting rows)."""
    base = int(rows.max()) + 1
    if base ** rows.shape[1] >= 2 ** 62:
        events, inverse = np.unique(rows, axis=0, return_inverse=True)
        return events, inverse.ravel()
    keys = rows @ (base ** np.arange(rows.shape[1], dtype=np.int64))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return rows[first], inverse.ravel()


def _objective(theta: np.ndarray, weights: np.ndarray, counts: np.ndarray,
               winners: np.ndarray, alpha: float) -> np.ndarray:
    top = theta.max(axis=1, keepdims=True)
    log_sums = np.log(np.exp(theta - top) @ counts.T) + top  # (r, events)
    return ((weights * (log_sums - theta[:, winners])).sum(axis=1)
            + alpha * (theta ** 2).sum(axis=1))


def fit_plackett_luce(weights: np.ndarray, counts: np.ndarray, winners: np.ndarray, *,
                      alpha: float = DEFAULT_ALPHA, start: np.ndarray | None = None,
                      max_iter: int = 100, tol: float = 1e-9) -> np.ndarray:
    """Penalised Plackett-Luce log-worths, one row per row of `weights`.

    `counts[e, b]` is the number of takes of bucket b in choice e's set, `winners[e]` the bucket
    chosen, `weights[r, e]` how often choice e occurs in data set r. Minimises, per row,
    sum_e weights[r, e] * (log sum_b counts[e, b] * exp(theta_b) - theta_winner[e])
    + alpha * sum_b theta_b**2 by Newton's method with backtracking (the objective is convex;
    alpha > 0 makes it strictly so), from `start` (one row of log-worths) or from 0. The result
    sums to 0 per row (a property of the optimum).
    """
    if alpha <= 0:
        raise ValueError("fit_plackett_luce: alpha must be > 0")
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    rows, n_buckets = weights.shape[0], counts.shape[1]
    theta = np.zeros((rows, n_buckets)) if start is None else np.tile(start, (rows, 1))
    winner_onehot = np.zeros((len(winners), n_buckets))
    winner_onehot[np.arange(len(winners)), winners] = 1.0
    wins = weights @ winner_onehot  # (r, b)
    pairs = (counts[:, :, None] * counts[:, None, :]).reshape(len(counts), -1)
    eye = np.eye(n_buckets)
    value = _objective(theta, weights, counts, winners, alpha)
    active = np.ones(rows, dtype=bool)
    for _ in range(max_iter):
        t = theta[active]
        w_rows = weights[active]
        worth = np.exp(t - t.max(axis=1, keepdims=True))
        sums = worth @ counts.T
        expected = worth * ((w_rows / sums) @ counts)
        gradient = expected - wins[active] + 2 * alpha * t
        mixed = ((w_rows / sums ** 2) @ pairs).reshape(-1, n_buckets, n_buckets)
        hessian = (expected[:, :, None] * eye - worth[:, :, None] * mixed * worth[:, None, :]
                   + 2 * alpha * eye)
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        scale = np.ones(len(t))
        old = value[active]
        new = _objective(t - step, w_rows, counts, winners, alpha)
        for _ in range(30):  # backtrack rows whose step did not lower the objective
            worse = new > old + 1e-12 * np.maximum(1.0, np.abs(old))
            if not worse.any():
                break
            scale[worse] /= 2
            new[worse] = _objective(t[worse] - scale[worse, None] * step[worse],
                                    w_rows[worse], counts, winners, alpha)
        theta[active] = t - scale[:, None] * step
        value[active] = new
        still = np.abs(gradient).max(axis=1) > tol * np.maximum(1.0, w_rows.sum(axis=1))
        indices = np.flatnonzero(active)
        active[indices[~still]] = False
        if not active.any():
            break
    return theta - theta.mean(axis=1, keepdims=True)


def _resampled_weights(incidences: list[sparse.csr_matrix], resamples: int,
                       rng: np.random.Generator) -> list[np.ndarray]:
    """Event weights, (resamples, events) per incidence matrix, of `resamples` bootstrap
    resamples of the judgements (their rows): one resample serves every setting."""
    together = sparse.hstack(incidences, format="csc")
    n = together.shape[0]
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    parts = []
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        picks = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        draws = np.bincount(picks.ravel(), minlength=size * n).reshape(size, n)
        parts.append(np.asarray(together.T @ draws.T.astype(float)).T)
    weights = np.vstack(parts)
    edges = np.cumsum([0, *(m.shape[1] for m in incidences)])
    return [weights[:, a:b] for a, b in itertools.pairwise(edges)]


def strengths(found: list[Judgement], *, resamples: int = DEFAULT_RESAMPLES,
              alpha: float = DEFAULT_ALPHA, seed: int = 0) -> Strengths:
    """Plackett-Luce strengths per voice, per setting, per bucket, with 95 % bootstrap intervals.

    `resamples` (1..MAX_RESAMPLES) bootstrap resamples of each voice's judgements, drawn from
    `numpy.random.default_rng(seed)`: the same judgements give the same figures. Judgements
    without two takes of different buckets to choose between add nothing; no usable
    judgement gives an empty result, never an error.

    Raises:
        ValueError: resamples out of 1..MAX_RESAMPLES, or alpha not > 0.
    """
    if not 1 <= resamples <= MAX_RESAMPLES:
        raise ValueError(f"resamples must be 1..{MAX_RESAMPLES}, not {resamples}")
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, not {alpha}")
    fits: dict[str, dict[str, SettingStrengths]] = {}
    used: list[Judgement] = []
    for voice in sorted({j.voice for j in found}):
        mine = [j for j in found if j.voice == voice]
        takes: list[dict[str, Any]] = []
        index_of: dict[int, int] = {}
        entry_take: list[int] = []
        for judgement in mine:
            for take in (*judgement.ordering, *judgement.unranked):
                at = index_of.setdefault(id(take), len(takes))
                if at == len(takes):
                    takes.append(take)
                entry_take.append(at)
        if not entry_take:
            continue
        sizes = np.array([len(j.ordering) + len(j.unranked) for j in mine])
        starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
        j_arr = np.repeat(np.arange(len(mine)), sizes)
        p_arr = np.arange(len(entry_take)) - starts
        r_arr = p_arr < np.repeat([len(j.ordering) for j in mine], sizes)
        table = _bucket_table(takes)[np.array(entry_take)]
        found_choices = {}
        for column, setting in enumerate(SETTINGS):
            keep = table[:, column] >= 0
            choices = _choices(j_arr[keep], p_arr[keep], r_arr[keep], table[keep, column],
                               len(mine))
            if choices is not None and len(choices.buckets) >= 2:
                found_choices[setting] = choices
        if not found_choices:
            continue
        boots = _resampled_weights([c.incidence for c in found_choices.values()], resamples,
                                   np.random.default_rng(seed))
        informative = np.zeros(len(mine), dtype=bool)
        for (setting, choices), boot in zip(found_choices.items(), boots, strict=True):
            fit = _fit(voice, setting, choices, boot, alpha)
            if fit is not None:
                fits.setdefault(voice, {})[setting] = fit
                informative |= np.asarray(choices.incidence.sum(axis=1)).ravel() > 0
        used.extend(j for j, ok in zip(mine, informative, strict=True) if ok)
    return Strengths(fits=fits, judgements=len(used),
                     raters=tuple(sorted({j.rater for j in used})),
                     batches=len({(j.voice, j.batch_id) for j in used}))


def _fit(voice: str, setting: str, choices: _Choices, boot_weights: np.ndarray,
         alpha: float) -> SettingStrengths | None:
    base = np.asarray(choices.incidence.sum(axis=0))  # (1, events)
    point = fit_plackett_luce(base, choices.counts, choices.winners, alpha=alpha)[0]
    if not np.isfinite(point).all():
        log.warning("strength fit for %s / %s did not converge", voice, setting)
        return None
    boot = fit_plackett_luce(boot_weights, choices.counts, choices.winners, alpha=alpha,
                             start=point)
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    best = np.bincount(boot.argmax(axis=1), minlength=len(choices.buckets))
    # judgements with a take in each bucket (any of their choice sets holds one)
    touching = np.asarray(((choices.incidence @ choices.counts) > 0).sum(axis=0)).ravel()
    judged = int((np.asarray(choices.incidence.sum(axis=1)).ravel() > 0).sum())
    edges = bucket_edges(setting)
    buckets = tuple(
        BucketStrength(low_edge=edges[b][0], high_edge=edges[b][1],
                       centre=round((edges[b][0] + edges[b][1]) / 2, 6),
                       strength=float(point[i]), low=float(low[i]), high=float(high[i]),
                       judgements=int(touching[i]))
        for i, b in enumerate(choices.buckets))
    return SettingStrengths(voice, setting, buckets, judged, len(boot_weights),
                            tuple(int(n) for n in best))


# -- suggestions and the plot -----------------------------------------------------------------


def suggest_ranges(result: Strengths) -> dict[str, dict[str, Suggestion]]:
    """Per voice, per setting: a range for the next batch and how sure the analysis is.

    The best bucket is the one with the highest strength; the range runs from the lowest to
    the highest bucket whose 95 % interval reaches the best bucket's interval (its high end at
    or above the best's low end), from that bucket's low edge to the other's high edge.
    Sureness is the share of bootstrap resamples whose best bucket lies in the range: "sure"
    at 90 % or more with at least SURE_JUDGEMENTS judgements, "likely" at 70 % or more with at
    least LIKELY_JUDGEMENTS, else "a guess". When the range holds every bucket the voice
    tried, no value stood out, so it is "a guess" whatever the share.
    """
    suggestions: dict[str, dict[str, Suggestion]] = {}
    for voice, per_setting in result.fits.items():
        for setting, fit in per_setting.items():
            buckets = fit.buckets
            best = max(range(len(buckets)), key=lambda i: buckets[i].strength)
            near = [i for i, b in enumerate(buckets) if b.high >= buckets[best].low]
            first, last = min(near), max(near)
            sureness = sum(fit.best_counts[first:last + 1]) / max(fit.resamples, 1)
            everything = first == 0 and last == len(buckets) - 1
            if everything:
                wording = "a guess"
                note = (f"no value stood out among the {len(buckets)} buckets tried "
                        f"({fit.judgements} judgements): keep the range, or widen it")
            else:
                wording = _wording(sureness, fit.judgements)
                note = (f"the best value stayed in this range in {sureness:.0%} of "
                        f"{fit.resamples} re-draws of {fit.judgements} judgements")
                if wording != _wording(sureness, SURE_JUDGEMENTS):
                    note += f": too few judgements to be {_wording(sureness, SURE_JUDGEMENTS)}"
            suggestions.setdefault(voice, {})[setting] = Suggestion(
                low=buckets[first].low_edge, high=buckets[last].high_edge,
                best=buckets[best].centre, sureness=round(sureness, 3), wording=wording,
                note=note, judgements=fit.judgements)
    return suggestions


def _wording(sureness: float, judgements: int) -> str:
    if sureness >= SURE and judgements >= SURE_JUDGEMENTS:
        return "sure"
    if sureness >= LIKELY and judgements >= LIKELY_JUDGEMENTS:
        return "likely"
    return "a guess"


def plot_strengths(result: Strengths) -> Any:
    """A matplotlib figure: one panel per setting (columns) and voice (rows), each bucket's
    strength at its centre with its 95 % interval as error bars."""
    import matplotlib.pyplot as plt

    voices = sorted(result.fits) or ["(no judgements yet)"]
    fig, axes = plt.subplots(len(voices), len(SETTINGS), figsize=(3.2 * len(SETTINGS),
                             2.6 * len(voices)), squeeze=False, sharey="row")
    for i, voice in enumerate(voices):
        for j, setting in enumerate(SETTINGS):
            ax = axes[i][j]
            low_limit, high_limit, _ = SETTING_LIMITS[setting]
            ax.set_xlim(low_limit, high_limit)
            ax.axhline(0.0, color="0.8", linewidth=0.8)
            fit = result.fits.get(voice, {}).get(setting)
            if fit is not None:
                xs = [b.centre for b in fit.buckets]
                ys = [b.strength for b in fit.buckets]
                errors = [[max(b.strength - b.low, 0.0) for b in fit.buckets],
                          [max(b.high - b.strength, 0.0) for b in fit.buckets]]
                ax.errorbar(xs, ys, yerr=errors, fmt="o-", capsize=3, markersize=4)
            else:
                ax.text(0.5, 0.5, "no choices\nbetween values", ha="center", va="center",
                        transform=ax.transAxes, color="0.5", fontsize=8)
            ax.set_xlabel(setting)
            if j == 0:
                ax.set_ylabel(f"{voice[:28]}\nstrength (log-worth)")
    fig.tight_layout()
    return fig
