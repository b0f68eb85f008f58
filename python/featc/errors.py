"""The exceptions featc raises. Every one is a `featc.Error`."""
from dataclasses import dataclass
from typing import List, Optional


class Error(Exception):
    """Anything featc refuses or fails at."""


@dataclass(frozen=True)
class Diagnostic:
    """One diagnostic of a project that does not compile (as `featc check` prints it)."""

    code: str
    severity: str
    message: str
    file: str
    line: int
    column: int
    hint: Optional[str] = None


class CompileError(Error):
    """The project does not compile. `str(e)` is the CLI's diagnostic text (file, line,
    column, the source underlined, a hint); `e.diagnostics` lists them as data."""

    def __init__(self, message: str, diagnostics: List[Diagnostic]):
        super().__init__(message)
        self.diagnostics = diagnostics


class UnknownNameError(Error, LookupError):
    """A feature, service, source or entity that the project does not declare."""


class DataError(Error):
    """Input data that breaks the declared schema: a missing column, a column of the
    wrong type, a null where none is allowed, a bad cell. The message names the table
    (a source or the spine), the column and, where it can, the row."""


class StateError(Error):
    """An online store's state directory that cannot be used."""


class RequestError(Error):
    """A request `featc serve` refused: `status` (HTTP), `code`, `field` and the
    server's message."""

    def __init__(self, status: int, code: str, field: Optional[str], message: str):
        super().__init__(f"{message} ({code}, HTTP {status})")
        self.status = status
        self.code = code
        self.field = field
        self.message = message


class RemoteUnknownNameError(RequestError, UnknownNameError):
    """A name `featc serve` does not know (`featc.Client`): an `UnknownNameError`, as
    the embedded store raises, and a `RequestError` with the server's code."""


class RemoteDataError(RequestError, DataError):
    """Data `featc serve` refused (`featc.Client`): a `DataError`, as the embedded
    store raises, and a `RequestError` naming the field and row."""
