"""Progress of a long run: a bar in a terminal and in Jupyter (tqdm's, when it is
installed; else a line rewritten on stderr), or nothing."""
import sys
from typing import Any, Callable, Optional


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Bar:
    """Receives (phase, done, total) from the engine."""

    def __init__(self) -> None:
        self._bar = None
        self._phase = None
        try:
            from tqdm.auto import tqdm

            self._tqdm = tqdm
        except ImportError:
            self._tqdm = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self._phase:
            self._phase = phase
            if self._tqdm is not None:
                if self._bar is None:
                    self._bar = self._tqdm(total=None, unit=" rows", desc=phase, leave=False)
                self._bar.set_description(phase)
            else:
                sys.stderr.write(f"\rfeatc: {phase}\x1b[K")
                sys.stderr.flush()
        if total <= 0:
            return
        if self._tqdm is not None and self._bar is not None:
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()
        else:
            width = 30
            filled = width * done // total
            sys.stderr.write(f"\rfeatc: {phase} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows\x1b[K")
            sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._phase is not None:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def reporter(progress: Any) -> "tuple[Optional[Callable[[str, int, int], None]], Callable[[], None]]":
    """The callable the engine calls, and what closes it. `progress`: None (a bar
    when interactive), True, False, or a callable taking (phase, done, total)."""
    if callable(progress) and not isinstance(progress, bool):
        return progress, lambda: None
    if progress is False or (progress is None and not _interactive()):
        return None, lambda: None
    bar = _Bar()
    return bar, bar.close
