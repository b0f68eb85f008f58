"""The floor of `featc materialize`'s write: the same hashes (keys, fields and values
that featc wrote, read back from Redis) written again into an emptied Redis by a bare
client, in the way bench/peers/serve_peers/load_redis_hashes.py loads its floor:
redis-py, pipelined HSET (mapping), 1000 hashes per pipeline, no transaction, no DEL.
Then the same hashes once more through `redis-cli --pipe` (Redis's mass-insertion
protocol: a file of HSET commands streamed by a C client), Redis's own limit.

    python floor.py PORT [PREFIX] [REDIS_PID]    # 127.0.0.1 only

Prints RESULT lines: hashes, fields (per hash, mean), seconds, hashes/s, and the CPU
Redis used (REDIS_PID). Needs redis-py and redis-cli.
"""
import os
import subprocess
import sys
import tempfile
import time

import redis

PER_PIPELINE = 1000
from proc_cpu import cpu_s  # noqa: E402



def main():
    port = int(sys.argv[1])
    prefix = sys.argv[2] if len(sys.argv) > 2 else "featc:"
    redis_pid = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    r = redis.Redis(host="127.0.0.1", port=port)
    keys = sorted(r.scan_iter(match=prefix + "*", count=10000))
    hashes = []
    for i in range(0, len(keys), PER_PIPELINE):
        pipe = r.pipeline(transaction=False)
        chunk = keys[i:i + PER_PIPELINE]
        for k in chunk:
            pipe.hgetall(k)
        hashes.extend(zip(chunk, pipe.execute()))
    fields = sum(len(h) for _, h in hashes)
    mean = fields / max(len(hashes), 1)

    r.flushdb()
    c0, t0 = cpu_s(redis_pid), time.perf_counter()
    pipe = r.pipeline(transaction=False)
    for i, (key, mapping) in enumerate(hashes, 1):
        pipe.hset(key, mapping=mapping)
        if i % PER_PIPELINE == 0:
            pipe.execute()
    pipe.execute()
    took, cpu = time.perf_counter() - t0, cpu_s(redis_pid) - c0
    print(f"RESULT floor_redis_py hashes={len(hashes)} fields_per_hash={mean:.1f} seconds={took:.2f} "
          f"hashes_per_s={len(hashes) / took:.0f} redis_cpu_s={cpu:.2f} dbsize={r.dbsize()}")

    with tempfile.NamedTemporaryFile(suffix=".resp") as f:
        out = bytearray()
        for key, mapping in hashes:
            args = [b"HSET", key]
            for k, v in mapping.items():
                args += [k, v]
            out += b"*%d\r\n" % len(args)
            for a in args:
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        f.write(out)
        f.flush()
        r.flushdb()
        c0, t0 = cpu_s(redis_pid), time.perf_counter()
        with open(f.name, "rb") as data:
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--pipe"], stdin=data,
                           stdout=subprocess.DEVNULL, check=True)
        took, cpu = time.perf_counter() - t0, cpu_s(redis_pid) - c0
        print(f"RESULT floor_redis_cli_pipe hashes={len(hashes)} bytes={len(out)} seconds={took:.2f} "
              f"hashes_per_s={len(hashes) / took:.0f} redis_cpu_s={cpu:.2f} dbsize={r.dbsize()}")


if __name__ == "__main__":
    main()
