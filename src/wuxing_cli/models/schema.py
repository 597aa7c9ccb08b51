"""The JSON Schema of criteria files, as printed by ``wuxing schema`` and committed under schema/."""

from __future__ import annotations

import json
from typing import Any

from .criteria import Criteria

SCHEMA_ID = "https://wuxing.invalid/schema/criteria.schema.json"


def criteria_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) generated from the pydantic models."""
    schema = Criteria.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "wuxing 评分标准 / criteria file",
        "description": "河南\u201c五星\u201d支部评分标准文件（SPEC §2） / a wuxing criteria file",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def criteria_schema_text() -> str:
    return json.dumps(criteria_schema(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
