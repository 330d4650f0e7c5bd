"""Who changed what, and undo: history.jsonl, `ranked_by`, undo and unlock, `voicelab history`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.batches import make_batch
from voicelab import store
from voicelab.errors import MetadataError
from voicelab.store import schema

# --- schema: the optional `ranked_by` ----------------------------------------------------------


@pytest.mark.parametrize("ranked_by", ["absent", None, "alice", "cli"])
def test_schema_accepts_takes_with_and_without_ranked_by(root: Path, ranked_by: object) -> None:
    batch = make_batch(root, ranks={"Line_1_take_1.mp3": 1})
    data = store.load_metadata(batch)
    for take in data["takes"]:
        if ranked_by != "absent":
            take["ranked_by"] = ranked_by
        assert ("ranked_by" in take) == (ranked_by != "absent")
    store.save_metadata(batch, data)
    loaded = store.load_metadata(batch)
    assert [t.get("ranked_by", "absent") for t in loaded["takes"]] == [ranked_by] * 9


@pytest.mark.parametrize("bad", [3, True, ["alice"], {"name": "alice"}])
def test_schema_rejects_a_ranked_by_that_is_not_a_string(root: Path, bad: object) -> None:
    batch = make_batch(root)
    data = store.load_metadata(batch)
    data["takes"][4]["ranked_by"] = bad
    with pytest.raises(MetadataError) as caught:
        store.save_metadata(batch, data)
    assert caught.value.reason == (
        f"takes[4] (Line_2_take_2.mp3): field 'ranked_by' must be a name (string) or null, "
        f"got {bad!r}"
    )


_take = st.fixed_dictionaries(
    {
        "file": st.sampled_from(["a.mp3", "b.mp3", "c.mp3"]),
        "line": st.just("L1"),
        "script_text": st.just("hi"),
        "take_number": st.just(1),
        "generation_settings": st.just({}),
        "rank": st.sampled_from([None, 1, 2]),
        "ranked_at": st.sampled_from([None, "2025-01-01T00:00:00Z"]),
    },
    optional={"ranked_by": st.sampled_from([None, "alice", "", 3, False, ["x"]])},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(takes=st.lists(_take, max_size=4))
def test_fast_take_check_agrees_with_the_explaining_one_on_optional_fields(
    takes: list[dict[str, Any]],
) -> None:
    """The column-wise fast path reads optional fields too, and agrees with the explanation."""
    try:
        schema.raise_take_problem(takes, "m.json")
        slow_ok = True
    except MetadataError:
        slow_ok = False
    assert schema.takes_ok(takes) == slow_ok
