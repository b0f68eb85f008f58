"""Runs `featc materialize ...` and times its phases from its progress lines (stderr
is not a terminal, so featc prints one `featc: PHASE` line as each phase starts),
with the CPU featc and redis-server used in each phase (from /proc).

    python3 timed.py REDIS_PID -- featc materialize PROJECT --to ... [args]

Prints featc's stderr, then one RESULT line:
  start_s     from the spawn to "loading the history" (compile, plan, count the rows)
  load_s      loading the history into the runtime (read, sort, ingest, compact)
  write_s     "writing hashes" to the summary line: reading each entity's vector
              from the runtime, encoding it and writing it to Redis (every round
              trip answered)
  exit_s      the summary line to the exit (freeing the state)
  *_cpu_s     featc's user+system CPU in that phase; redis_write_cpu_s is Redis's.
Standard library only.
"""
import os
import subprocess
import sys
import time

from proc_cpu import cpu_s  # noqa: E402



def main():
    redis_pid = int(sys.argv[1])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    marks = {}
    t0 = time.monotonic()
    child = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    marks["spawn"] = (t0, 0.0, cpu_s(redis_pid))
    summary = ""
    for line in child.stderr:
        now = time.monotonic()
        sys.stderr.write(line)
        if line.startswith("featc: loading the history"):
            marks["load"] = (now, cpu_s(child.pid), cpu_s(redis_pid))
        elif line.startswith("featc: writing hashes"):
            marks["write"] = (now, cpu_s(child.pid), cpu_s(redis_pid))
        elif line.startswith("wrote "):
            summary = line.strip()
            marks["wrote"] = (now, cpu_s(child.pid), cpu_s(redis_pid))
    _, status, usage = os.wait4(child.pid, 0)
    end = (time.monotonic(), usage.ru_utime + usage.ru_stime, cpu_s(redis_pid))
    if status != 0 or "wrote" not in marks:
        sys.exit(f"timed.py: {' '.join(cmd)} failed (status {status})")
    words = summary.split()
    hashes = int(words[1]) if len(words) > 1 else 0
    (ts, _, _), (tl, cl, _), (tw, cw, rw) = marks["spawn"], marks["load"], marks["write"]
    (td, cd, rd), (te, ce, _) = marks["wrote"], end
    print(
        f"RESULT materialize hashes={hashes} total_s={te - ts:.2f} start_s={tl - ts:.2f} "
        f"load_s={tw - tl:.2f} write_s={td - tw:.2f} exit_s={te - td:.2f} "
        f"hashes_per_s_write={hashes / (td - tw):.0f} hashes_per_s_total={hashes / (te - ts):.0f} "
        f"load_cpu_s={cw - cl:.2f} write_cpu_s={cd - cw:.2f} redis_write_cpu_s={rd - rw:.2f}"
    )


if __name__ == "__main__":
    main()
