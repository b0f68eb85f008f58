"""featc from Python."""
from ._featc import __version__
