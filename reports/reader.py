"""What the report layer needs from storage: rows for parameterised SQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Reader(Protocol):
    def query_rows(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]: ...
