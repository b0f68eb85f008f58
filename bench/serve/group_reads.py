"""Reads through one member of a featc serve group, timed apart by where each key's
partition is answered: by the member itself (owner) or by another member (routed).

usage: group_reads.py ADDR STORE_DIR ENTITY KEY_COLUMN USERS PARTITIONS N AT_US FEAT

Each read asks for every feature FEAT (a .feat file) declares, for one random key.

Ownership comes from the group's registry in the store (members/*.json, the newest
claim of a task wins) and each key's partition from Kafka's murmur2 over the key's
text, as featc routes it (server/src/kafka/key.rs).
"""
import glob
import json
import random
import re
import sys
import time
import urllib.request


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (the Java client's default partitioner)."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    tail = data[length - rest:]
    if rest == 3:
        h ^= tail[2] << 16
    if rest >= 2:
        h ^= tail[1] << 8
    if rest >= 1:
        h ^= tail[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def main() -> None:
    addr, store, entity, column = sys.argv[1:5]
    users, partitions, n, at = (int(x) for x in sys.argv[5:9])
    features = re.findall(r"^\s*feature\s+(\w+)\s*=", open(sys.argv[9]).read(), re.M)
    me = addr if addr.startswith("http") else f"http://{addr}"
    owners = {}
    for path in glob.glob(f"{store}/members/*.json"):
        record = json.load(open(path))
        for e, p in record["tasks"]:
            if e == entity and record["at_us"] > owners.get(p, (0, ""))[0]:
                owners[p] = (record["at_us"], record["address"])
    times = {"owner": [], "routed": []}
    rng = random.Random(7)
    for _ in range(n):
        user = rng.randrange(users)
        p = (murmur2(str(user).encode()) & 0x7FFFFFFF) % partitions
        where = "owner" if owners.get(p, (0, ""))[1] == me else "routed"
        body = json.dumps({"features": features, "entities": {column: [user]},
                           "at": at}).encode()
        request = urllib.request.Request(f"{me}/get-online-features", data=body,
                                         headers={"content-type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(request) as answer:
            answer.read()
        times[where].append(time.perf_counter() - t0)
    for where, ts in times.items():
        if not ts:
            continue
        ts.sort()
        p50 = ts[len(ts) // 2] * 1e3
        p99 = ts[min(len(ts) - 1, int(len(ts) * 0.99))] * 1e3
        print(f"RESULT reads={where} n={len(ts)} p50_ms={p50:.2f} p99_ms={p99:.2f}")


if __name__ == "__main__":
    main()
