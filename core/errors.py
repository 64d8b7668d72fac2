"""One root exception; each package raises its own subclass.

Messages are written for the person who has to act on them, and never carry a
personal identity number.
"""

from __future__ import annotations


class StatflowError(Exception):
    """Root of every error statflow raises on purpose."""


class ConfigError(StatflowError):
    """A STATFLOW_* setting is missing or malformed."""


class StackError(StatflowError):
    """The local Kafka/Redis stack could not be started, stopped or reached."""


class ValidationError(StatflowError):
    """An input record does not follow the contract (schemas/)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class ContractError(StatflowError):
    """A contract file (JSON Schema) cannot be read or is not a schema."""


class SinkError(StatflowError):
    """ClickHouse or Redis refused a write or a read."""


class PartitionFenced(StatflowError):
    """Another worker claimed these partitions after this one did (it stalled
    past its session timeout and Kafka moved them): this worker's write or
    checkpoint for them is refused. Not a SinkError: retrying cannot help; the
    partitions come back only when Kafka assigns them to this worker again."""

    def __init__(self, topic: str, partitions: tuple[int, ...]) -> None:
        super().__init__(
            f"{topic} partitions {list(partitions)} are now owned by another worker; "
            "this worker's late write was refused"
        )
        self.topic = topic
        self.partitions = partitions


class MigrationError(SinkError):
    """A DDL migration failed or the stored schema is newer than this code."""


class ReportError(StatflowError):
    """A report request cannot be answered as asked."""


class ParameterError(ReportError):
    """A report parameter is unknown or malformed; HTTP 400."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"parameter '{parameter}': {message}")
        self.parameter = parameter


class UnknownReportError(ReportError):
    """No such service or report; HTTP 404."""


class AccessDenied(ReportError):
    """The caller's tier does not allow this answer; HTTP 401/403."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


class ClickHouseHTTPError(StatflowError):
    """A request to the store's ClickHouse HTTP interface was refused or failed.

    Carries ClickHouse's own error code and name, so the answer can be shaped
    the way ClickHouse shapes it (`Code: N. DB::Exception: ... (NAME)`) and
    clients raise their usual exceptions.
    """

    def __init__(self, code: int, name: str, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.code = code
        self.name = name
        self.status = status


class AnswerTooLarge(ReportError):
    """The answer would hold more cells than the service's limit; HTTP 400."""

    def __init__(self, cells: int, limit: int, at_least: bool = False, pdf: bool = False) -> None:
        super().__init__(
            f"the answer has {'at least ' if at_least else ''}{cells:,} cells "
            f"(rows x columns), over this service's limit of {limit:,} cells per "
            f"{'PDF ' if pdf else ''}answer (see GET /api/v1/config); choose a shorter period, "
            f"a higher drill-down level or fewer values{' or another format' if pdf else ''}"
        )
        self.cells = cells
        self.limit = limit
