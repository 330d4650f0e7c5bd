"""The batch directory contract: metadata.json (schema v1), durable writes, ranked/ links.

A batch lives in `<ROOT>/<Skin>/<Voice>/<BatchID>/` (docs/design.md: the batch contract, decisions
6-7). The package's modules, one job each:

- `layout`: the folder's names, temp names, the LOCKED sentinel;
- `durable`: atomic writes and the per-batch lock that serializes metadata writes;
- `schema`: schema v1 as one table of fields, validated fast or explained;
- `metadata`: read, validate, write metadata.json;
- `links`: the ranked/ symlink tree mirroring the ranks;
- `find`: finding and listing batches under AUDIO_ROOT.

Callers use the names re-exported here (`store.load_metadata`, `store.batch_lock`, ...).
"""

from voicelab.store.durable import (
    atomic_write_bytes,
    batch_lock,
    fsync_dir,
    lock_batch,
    unlock_batch,
)
from voicelab.store.find import BatchRecord, batch_dirs, find_batch, find_batches, valid_batch_id
from voicelab.store.layout import (
    LOCK_FILE_NAME,
    LOCKED_NAME,
    METADATA_NAME,
    RANK_DIRS,
    RANKED_DIR,
    RANKS,
    TAKES_DIR,
    TEMP_SUFFIX,
    create_batch_dirs,
    is_locked,
    is_temp_name,
    link_target,
    rank_dir,
    remove_dead_temps,
    remove_path,
    take_files,
    temp_files,
    temp_name,
)
from voicelab.store.links import ranked_tree_intact, rebuild_symlinks, update_links
from voicelab.store.metadata import dump_metadata, load_metadata, save_metadata, update_metadata
from voicelab.store.schema import Metadata, validate_metadata

__all__ = [
    "LOCKED_NAME",
    "LOCK_FILE_NAME",
    "METADATA_NAME",
    "RANKED_DIR",
    "RANKS",
    "RANK_DIRS",
    "TAKES_DIR",
    "TEMP_SUFFIX",
    "BatchRecord",
    "Metadata",
    "atomic_write_bytes",
    "batch_dirs",
    "batch_lock",
    "create_batch_dirs",
    "dump_metadata",
    "find_batch",
    "find_batches",
    "fsync_dir",
    "is_locked",
    "is_temp_name",
    "link_target",
    "load_metadata",
    "lock_batch",
    "rank_dir",
    "ranked_tree_intact",
    "rebuild_symlinks",
    "remove_dead_temps",
    "remove_path",
    "save_metadata",
    "take_files",
    "temp_files",
    "temp_name",
    "unlock_batch",
    "update_links",
    "update_metadata",
    "valid_batch_id",
    "validate_metadata",
]
