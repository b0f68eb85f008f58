"""CPU seconds of a process from /proc, for the Redis benchmark's scripts."""
import os

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """user + system CPU seconds of a live process (its threads included); NaN when
    there is no such process (or no pid)."""
    if not pid:
        return float("nan")
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return float("nan")
