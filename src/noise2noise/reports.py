"""Reports as standard JSON: a NaN or infinite number (a PSNR of identical images, a validation
score before the first validation) is written as ``null``, since ``NaN``/``Infinity`` are not JSON
and many parsers refuse them."""

from __future__ import annotations

import json
import math
from typing import Any


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None (recursively through dicts, lists, tuples)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def dumps(obj: Any, indent: int | None = 2) -> str:
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False)
