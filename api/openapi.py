"""The OpenAPI 3 document, built from the same table that registers the routes.

`RouteTable.route` adds a Flask rule to the blueprint *and* records its operation (summary,
parameters, body, responses), so `document()` cannot drift from the app; a test checks every
Flask rule under /api and /audio against the document, both ways.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint

from voicelab.delivery.base import FORMATS, LUFS_RANGE
from voicelab.delivery.options import BIT_DEPTHS, PRESETS, SAMPLE_RATES
from voicelab.delivery.options import TRUE_PEAK_RANGE as _TRUE_PEAK
from voicelab.engines import ENGINES
from voicelab.jobspec import MAX_VARIANTS, MAX_VOICES, SETTING_LIMITS

Schema = dict[str, Any]
View = Callable[..., Any]

AUDIO = "audio"  # a response that is MP3 bytes, not a JSON envelope
RAW = "raw"  # the OpenAPI document itself: plain JSON, no envelope
EMPTY = "empty"  # no body (304)
ZIP = "zip"  # a zip archive (an export)


@dataclass(frozen=True)
class Operation:
    """One method on one Flask rule, with what the document says about it."""

    rule: str
    method: str
    name: str
    summary: str
    responses: Mapping[int, str]  # status -> a SCHEMAS name, AUDIO, RAW or EMPTY
    body: Mapping[str, str] = field(default_factory=dict)  # media type -> a SCHEMAS name
    query: tuple[Schema, ...] = ()
    body_required: bool = True

    @property
    def path(self) -> str:
        """The rule in OpenAPI form: `<path:relpath>` -> `{relpath}`."""
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", self.rule)


class RouteTable:
    """A blueprint plus the list of operations registered through it."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.operations: list[Operation] = []

    def route(self, rule: str, method: str, summary: str, responses: Mapping[int, str], *,
              body: Mapping[str, str] | None = None,
              query: tuple[Schema, ...] = (),
              body_required: bool = True) -> Callable[[View], View]:
        """Decorator: register `view` for `method rule` and record its operation (`body`, if
        any, may be left out when not `body_required`)."""
        def register(view: View) -> View:
            self.blueprint.add_url_rule(rule, view.__name__, view, methods=[method])
            self.operations.append(Operation(rule, method, view.__name__, summary, responses,
                                             body or {}, query, body_required))
            return view
        return register


# --- schemas ---------------------------------------------------------------------------------

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "description": "ISO-8601 UTC time"}
_JOB_STATES = ["QUEUED", "STARTED", "PROGRESS", "SUCCESS", "FAILURE", "REVOKED"]
_RANK = {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 5}, {"type": "null"}]}


def _setting(name: str) -> Schema:
    low, high, default = SETTING_LIMITS[name]
    number = {"type": "number", "minimum": low, "maximum": high}
    pair = {"type": "array", "items": number, "minItems": 1, "maxItems": 2,
            "description": "[min, max]: takes are spread across the range"}
    return {"oneOf": [number, pair, {"type": "null"}], "default": default}


_CONFIG_FIELDS: Schema = {
    "skin_name": {"type": "string", "minLength": 1, "maxLength": 100},
    "voice_ids": {"oneOf": [
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
         "maxItems": MAX_VOICES},
        {"type": "string", "minLength": 1},
    ]},
    "script_name": {"type": "string"},
    "variants": {"type": "integer", "minimum": 1, "maximum": MAX_VARIANTS, "default": 1},
    "engine": {"type": ["string", "null"], "enum": [*ENGINES, None]},
    "model_id": {"type": ["string", "null"], "minLength": 1},
    "settings": {
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            **{name: _setting(name) for name in SETTING_LIMITS},
            "use_speaker_boost": {"type": "boolean", "default": True},
        },
    },
    "seed": {"type": ["integer", "null"], "minimum": 0, "maximum": 4_294_967_295},
    "lang": {"type": "string", "pattern": "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$",
             "default": "en", "description": "the script's language (the speech check hears "
             "English only)"},
}


def _object(required: list[str], properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


_TAKE: Schema = {
    "type": "object",
    "required": ["file", "line", "script_text", "take_number", "generation_settings", "rank",
                 "ranked_at"],
    "properties": {
        "file": _STR, "line": _STR, "script_text": _STR,
        "take_number": {"type": "integer", "minimum": 1},
        "generation_settings": {"type": "object"},
        "rank": _RANK, "ranked_at": _TIME,
        "ranked_by": {"type": ["string", "null"], "description": "who gave the rank"},
        "ranks_by": {"type": "object", "additionalProperties": {"type": "integer"},
                     "description": "a panel's raters' own ranks (rater -> rank; leads only)"},
    },
}

_BLIND_TAKE: Schema = {
    "type": "object",
    "required": ["id", "label", "line", "rank"],
    "additionalProperties": False,
    "description": "a take as a rater of an open blind panel sees it: no file name, settings, "
                   "seed, take number or other rater's rank",
    "properties": {
        "id": {"type": "string", "description": "opaque, this rater's own: name the take by it"},
        "label": {"type": "string", "description": "A, B, C... in this rater's order"},
        "line": _STR, "script_text": _STR, "duration_s": {"type": ["number", "null"]},
        "flags": {"type": "array", "items": _STR, "description": "QC flags"},
        "rank": {**_RANK, "description": "this rater's own rank"},
    },
}

_SEEN_TAKE: Schema = {"anyOf": [_TAKE, _BLIND_TAKE]}

_PANEL_FIELDS: Schema = {
    "raters": {"type": "array", "items": _STR}, "blind": {"type": "boolean"},
    "method": {"type": "string", "description": "borda (see voicelab.panel.consensus)"},
    "opened_by": _STR, "opened_at": _TIME,
    "lines": {"type": "object", "description": "line -> {closed_by, closed_at, override}",
              "additionalProperties": {"type": "object"}},
}

_PANEL: Schema = {
    "type": "object", "required": ["raters", "blind", "method", "opened_by", "lines"],
    "properties": _PANEL_FIELDS, "not": {"required": ["order_key"]},
    "description": "a panel as a lead reads it (its order_key is never sent)",
}

_RATER_PANEL: Schema = {
    "type": "object", "required": ["size", "blind", "you"], "additionalProperties": False,
    "description": "a panel as one of its raters (or a non-lead) reads it while it is open: "
                   "how many rate, never who",
    "properties": {
        "size": {"type": "integer", "minimum": 1}, "blind": {"type": "boolean"},
        "you": _STR,
        "progress": {"type": ["object", "null"], "description": "your own {done, total} lines"},
    },
}

_RANKS = {"type": "object", "additionalProperties": _RANK, "description": "file -> rank"}

_PANEL_LINE: Schema = _object(
    ["line", "consensus", "ranks_by", "agreement", "rater_agreement", "raters_ranked", "closed",
     "closed_by", "override"], {
        "line": _STR, "script_text": _STR, "consensus": _RANKS,
        "ranks_by": {"type": "object", "additionalProperties": _RANKS,
                     "description": "rater -> file -> rank (their ranked takes only)"},
        "agreement": {"type": ["number", "null"],
                      "description": "Kendall's W (null: fewer than two raters ranked)"},
        "rater_agreement": {"type": "object",
                            "additionalProperties": {"type": ["number", "null"]},
                            "description": "rater -> Kendall's tau with the consensus"},
        "raters_ranked": {"type": "array", "items": _STR},
        "closed": {"type": "boolean"}, "closed_by": _NULLABLE_STR,
        "override": {"type": "boolean", "description": "a lead set the final ranks"},
    })

_HISTORY_ENTRY: Schema = _object(["seq", "time", "person", "action"], {
    "seq": {"type": "integer", "minimum": 1}, "time": _TIME, "person": _STR,
    "action": {"type": "string", "description": "rank, clear, lock, unlock, undo, baseline, "
               "panel, override, close, reopen"},
    "line": _NULLABLE_STR, "take": _NULLABLE_STR,
    "before": {"type": ["object", "null"], "description": "file -> rank before"},
    "after": {"type": ["object", "null"], "description": "file -> rank after"},
    "revision": {"type": "integer"}, "undoes": {"type": ["integer", "null"]},
})


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _data(schema: Schema) -> Schema:
    return {"type": "object", "required": ["data"], "additionalProperties": False,
            "properties": {"data": schema}}


SCHEMAS: dict[str, Schema] = {
    "Error": {"type": "object", "required": ["error"], "additionalProperties": False,
              "properties": {"error": _STR}},
    "GenerationConfig": {
        "type": "object", "required": ["skin_name", "voice_ids", "script_csv"],
        "additionalProperties": False,
        "properties": {**_CONFIG_FIELDS,
                       "script_csv": {"type": "string", "description": "the CSV text"}},
    },
    "GenerationOptions": {
        "type": "object", "required": ["skin_name", "voice_ids"], "additionalProperties": False,
        "properties": _CONFIG_FIELDS, "description": "a generation config without its script",
    },
    "GenerationUpload": {
        "type": "object", "required": ["script", "config"],
        "properties": {
            "script": {"type": "string", "format": "binary", "description": "the CSV file"},
            "config": _ref("GenerationOptions"),
        },
    },
    "RankChange": {"type": "object", "required": ["rank"], "additionalProperties": False,
                   "properties": {"rank": _RANK}},
    "TaskAccepted": _data(_object(["task_id"], {"task_id": _STR})),
    "JobStatus": _data(_object(["task_id", "status", "progress"], {
        "task_id": _STR,
        "status": {"type": "string", "enum": _JOB_STATES},
        "progress": {"type": ["object", "null"]},
        "result": {"type": ["object", "null"]},
        "error": _NULLABLE_STR,
    })),
    "JobList": _data({"type": "array", "items": _object(["task_id", "state"], {
        "task_id": _STR, "state": {"type": "string", "enum": _JOB_STATES},
        "submitted_at": _TIME, "skin": _NULLABLE_STR,
    })}),
    "JobCancelled": _data(_object(["task_id", "status", "cancel_requested"], {
        "task_id": _STR, "status": {"type": "string", "enum": _JOB_STATES},
        "cancel_requested": {"type": "boolean"},
    })),
    "Estimate": _data(_object(["voices", "lines", "takes", "requests", "characters", "quota"], {
        **{name: {"type": "integer", "minimum": 0}
           for name in ("voices", "lines", "takes", "requests", "characters")},
        "quota": {"type": ["object", "null"], "properties": {
            "remaining": {"type": "integer"}, "character_limit": {"type": "integer"},
            "share": {"type": ["number", "null"]}, "enough": {"type": "boolean"},
            "error": {"type": "string", "description": "set when the quota is unavailable"},
        }, "description": "ElevenLabs only; null for Piper"},
    })),
    "VoiceList": _data({"type": "array", "items": _object(["id", "name", "engine"], {
        "id": _STR, "name": _STR, "engine": {"type": "string", "enum": list(ENGINES)},
        "category": _STR, "labels": {"type": "object"}, "notes": _STR,
    })}),
    "BatchList": _data({"type": "array", "items": _object(
        ["skin", "voice", "batch_id", "path", "take_count", "ranked_count", "locked"], {
            "skin": _STR, "voice": _STR, "batch_id": _STR,
            "path": {"type": "string", "description": "the batch folder under AUDIO_ROOT; "
                     "/audio/<path>/takes/<file> plays a take"},
            "take_count": {"type": "integer"}, "ranked_count": {"type": "integer"},
            "locked": {"type": "boolean"}, "generated_at_utc": _TIME,
            "panel": {"type": ["object", "null"], "description": "a panel batch's {raters: how "
                      "many, blind}; null for a solo batch", "properties": {
                          "raters": {"type": "integer"}, "blind": {"type": "boolean"}}},
        })}),
    "Metadata": _data(_object(
        ["batch_id", "skin_name", "voice_name", "generated_at_utc", "ranked_at_utc",
         "generation_params", "takes"], {
            "batch_id": _STR, "skin_name": _STR, "voice_name": _STR,
            "generated_at_utc": _TIME, "ranked_at_utc": _TIME,
            "generation_params": {"type": "object"},
            "takes": {"type": "array", "items": _SEEN_TAKE},
            "panel": {"anyOf": [_PANEL, _RATER_PANEL]},
        })),
    "LineTakes": _data({"type": "array", "items": _SEEN_TAKE}),
    "PanelRequest": {"type": "object", "required": ["raters"], "additionalProperties": False,
                     "properties": {
                         "raters": {"type": "array", "minItems": 1, "maxItems": 32,
                                    "items": {"type": "string", "minLength": 1,
                                              "maxLength": 64}},
                         "blind": {"type": "boolean", "default": True}}},
    "Panel": _data(_PANEL),
    "Consensus": _data(_object(
        ["batch_id", "raters", "blind", "method", "progress", "rater_agreement", "lines",
         "disagreements"], {
            "batch_id": _STR, "raters": {"type": "array", "items": _STR},
            "blind": {"type": "boolean"}, "method": _STR, "opened_by": _NULLABLE_STR,
            "progress": {"type": "object", "description": "rater -> {done, total} lines"},
            "rater_agreement": {"type": "object",
                                "additionalProperties": {"type": ["number", "null"]},
                                "description": "rater -> mean tau over the lines they ranked"},
            "lines": {"type": "array", "items": _PANEL_LINE},
            "disagreements": {"type": "array", "items": _STR,
                              "description": "lines two or more raters ranked, least "
                                             "agreement first"},
        })),
    "Override": {"type": "object", "required": ["filename", "rank"],
                 "additionalProperties": False,
                 "properties": {"filename": {"type": "string", "minLength": 1},
                                "rank": _RANK}},
    "PanelLine": _data(_PANEL_LINE),
    "MoreRequest": {"type": "object", "additionalProperties": False, "properties": {
        "takes": {"type": "integer", "minimum": 1, "maximum": 20, "default": 3},
        "like": {"oneOf": [{"const": "auto"}, {"type": "integer", "minimum": 1, "maximum": 5},
                           {"type": "null"}],
                 "description": '"auto" (like the #1 when there is one), a rank, or null: the '
                                "batch's ranges"},
        "text": {"type": ["string", "null"], "minLength": 1,
                 "description": "an edited text: the line's current takes go stale"},
        "dry_run": {"type": "boolean", "description": "only the estimate"}}},
    "MoreEstimate": _data(_object(
        ["line", "takes", "requests", "characters", "text", "text_changed", "first_take"], {
            "line": _STR, "takes": {"type": "integer"}, "requests": {"type": "integer"},
            "characters": {"type": "integer", "description": "after pronunciations"},
            "text": _STR, "text_changed": {"type": "boolean"},
            "like": {"type": ["integer", "null"]}, "first_take": {"type": "integer"},
            "quota": {"type": ["object", "null"]}})),
    "NoteRequest": {"type": "object", "additionalProperties": False, "properties": {
        "text": {"type": "string", "maxLength": 2000}, "needs_pass": {"type": "boolean"}}},
    "LineNote": _data({"oneOf": [{"type": "null"}, _object(
        ["text", "by", "at", "needs_pass"], {"text": _STR, "by": _STR, "at": _TIME,
                                             "needs_pass": {"type": "boolean"}})]}),
    "ExportRequest": {"type": "object", "additionalProperties": False, "properties": {
        "rank": {"type": "integer", "minimum": 1, "maximum": 5, "default": 1},
        "format": {"type": ["string", "null"], "enum": [*FORMATS, None],
                   "description": "null: as generated (mp3), or the preset's"},
        "sample_rate": {"type": ["integer", "null"], "minimum": SAMPLE_RATES[0],
                        "maximum": SAMPLE_RATES[1]},
        "bit_depth": {"type": ["integer", "null"], "enum": [*BIT_DEPTHS, None],
                      "description": "wav and flac only"},
        "loudness": {"type": ["number", "null"], "minimum": LUFS_RANGE[0],
                     "maximum": LUFS_RANGE[1], "description": "integrated LUFS target"},
        "true_peak": {"type": "number", "minimum": _TRUE_PEAK[0], "maximum": _TRUE_PEAK[1],
                      "default": -1.0, "description": "dBTP ceiling"},
        "preset": {"type": "string", "enum": list(PRESETS), "default": "plain"},
        "naming": {"type": ["string", "null"], "minLength": 1,
                   "description": "template: {skin} {voice} {function} {line} {take} {rank} "
                                  "{lang}, / for folders, no extension"},
        "lang": {"type": "string", "default": "en"}}},
    "Locked": _data(_object(["locked", "ranked_at_utc"], {
        "locked": {"const": True}, "ranked_at_utc": _TIME,
    })),
    "LockRequest": {"type": "object", "additionalProperties": False, "properties": {
        "force": {"type": "boolean", "default": False,
                  "description": "lock even when the quality gate lists problems (recorded)"}}},
    "LockRefused": {
        "type": "object", "required": ["error", "problems"], "additionalProperties": False,
        "description": "the quality gate stopped the lock: nothing changed",
        "properties": {
            "error": _STR,
            "problems": {"type": "array", "items": _object(["line", "problems", "take"], {
                "line": _STR,
                "problems": {"type": "array", "minItems": 1, "items": _STR,
                             "description": "the selected take's QC flags (clipping, "
                                            "mostly_silence, duration_outlier, words, ...), "
                                            "stale, or no_selection"},
                "take": {"type": ["string", "null"],
                         "description": "the selected take's file; null: no selection"},
            })},
        }},
    "Unlocked": _data(_object(["locked"], {"locked": {"const": False}})),
    "History": _data({"type": "array", "items": _HISTORY_ENTRY}),
    "PresenceBeat": {"type": "object", "required": ["view"], "additionalProperties": False,
                     "properties": {
                         "view": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$",
                                  "description": "this open view's id (one per tab)"},
                         "line": {"type": ["string", "null"], "maxLength": 200,
                                  "description": "the line it is on"}}},
    "Presence": _data(_object(["count", "others"], {
        "count": {"type": "integer", "minimum": 0,
                  "description": "other people with the batch open"},
        "others": {"type": "array", "description": "their views (empty for a panel's rater)",
                   "items": _object(["name", "line"], {"name": _STR,
                                                       "line": _NULLABLE_STR})},
    })),
    "PresenceCounts": _data({"type": "object", "additionalProperties": {"type": "integer"},
                             "description": "batch id -> people with it open"}),
    "Person": _data(_object(["name", "role", "allowed", "sign_in"], {
        "name": _STR, "role": {"type": "string", "enum": ["viewer", "designer", "lead"]},
        "allowed": {"type": "array", "items": _STR,
                    "description": "what the role may do: listen, rank, undo, lock, ..."},
        "sign_in": {"type": "boolean", "description": "whether this server has users"},
    })),
}

# Multipart parts that carry JSON (the upload's config field).
_ENCODINGS = {"GenerationUpload": {"encoding": {"config": {"contentType": "application/json"}}}}

_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 206: "Partial Content", 304: "Not Modified",
            400: "Invalid input", 401: "Not signed in: no valid token or session",
            403: "The role does not allow it", 404: "Not found", 409: "Conflict",
            413: "Body too large", 416: "Range not satisfiable", 423: "Batch is locked",
            500: "Server-side problem", 502: "Text-to-speech service failed",
            503: "Job queue unreachable"}


def _response(kind: str, status: int) -> Schema:
    described: Schema = {"description": _REASONS.get(status, "")}
    if kind == AUDIO:
        described["content"] = {"audio/mpeg": {"schema": {"type": "string",
                                                          "format": "binary"}}}
    elif kind == ZIP:
        described["content"] = {"application/zip": {"schema": {"type": "string",
                                                                "format": "binary"}}}
    elif kind == RAW:
        described["content"] = {"application/json": {"schema": {"type": "object"}}}
    elif kind != EMPTY:
        described["content"] = {"application/json": {"schema": _ref(kind)}}
    return described


def _path_parameters(rule: str) -> list[Schema]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)]


def _operation(op: Operation, secured: bool) -> Schema:
    responses = dict(op.responses)
    if secured:
        responses.setdefault(401, "Error")
    spec: Schema = {
        "operationId": op.name,
        "summary": op.summary,
        "parameters": _path_parameters(op.rule) + list(op.query),
        "responses": {str(status): _response(kind, status)
                      for status, kind in sorted(responses.items())},
    }
    if op.body:
        spec["requestBody"] = {"required": op.body_required, "content": {
            media: {"schema": _ref(name), **_ENCODINGS.get(name, {})}
            for media, name in op.body.items()}}
    if secured and op.rule.startswith("/audio/"):
        spec["security"] = [{"bearer": []}, {"query_token": []}]
    return spec


def document(operations: list[Operation], *, secured: bool, version: str) -> Schema:
    """The OpenAPI 3.1 document for these operations (`secured`: a token or session is
    required, because a service token is set or users exist)."""
    paths: dict[str, Schema] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, secured)
    doc: Schema = {
        "openapi": "3.1.0",
        "info": {"title": "VoiceLab API", "version": version,
                 "description": 'Every JSON response is {"data": ...} or {"error": "message"}.'},
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
    if secured:
        doc["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "query_token": {"type": "apiKey", "in": "query", "name": "token"},
        }
        doc["security"] = [{"bearer": []}]
    return doc
