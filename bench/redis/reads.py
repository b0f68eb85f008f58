"""Reads from `featc serve` at a light, fixed pace while bench/redis.sh streams events
into it: one entity (2 features) per request, then a 5 ms pause, on one connection.
Does `--sink` make reads wait? (The sink reads the state too.)

    python3 reads.py PORT SECONDS USER_MIN USER_MAX     # 127.0.0.1 only

Prints one RESULT line (latency in ms). Standard library only.
"""
import http.client
import random
import sys
import time

port, secs, lo, hi = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
body = '{"features":["user_txn:txn_count_life","user_txn:amount_sum_7d"],"entities":{"user_id":[%d]}}'
conn = http.client.HTTPConnection("127.0.0.1", port)
latencies = []
end = time.monotonic() + secs
while time.monotonic() < end:
    t = time.perf_counter()
    conn.request("POST", "/get-online-features", body % random.randint(lo, hi),
                 {"Content-Type": "application/json"})
    answer = conn.getresponse()
    answer.read()
    latencies.append((time.perf_counter() - t) * 1e3)
    if answer.status != 200:
        sys.exit(f"reads.py: HTTP {answer.status}")
    time.sleep(0.005)
latencies.sort()


def q(p):
    return latencies[min(len(latencies) - 1, int(p * len(latencies)))]


print(f"RESULT reads n={len(latencies)} p50={q(0.5):.2f} p90={q(0.9):.2f} p99={q(0.99):.2f} "
      f"max={latencies[-1]:.2f}")
