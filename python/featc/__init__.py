"""featc from Python: compile a project, build point-in-time training sets, read
features online (embedded, or from `featc serve`), with featc's own engine."""
from ._featc import __version__
from .client import Client
from .online import OnlineStore
from .project import Project
from .errors import (
    CompileError,
    DataError,
    Diagnostic,
    Error,
    RequestError,
    StateError,
    UnknownNameError,
)

__all__ = [
    "__version__",
    "Client",
    "OnlineStore",
    "Project",
    "CompileError",
    "DataError",
    "Diagnostic",
    "Error",
    "RequestError",
    "StateError",
    "UnknownNameError",
]
