"""One large push while a client reads in a loop (stdlib only), for the "a read during a
large push" row of bench/serve.sh: shows whether reads wait for a push to be applied.

    python3 big_push.py PORT ROWS BASE_US

Prints one RESULT line: the push's size, status and time, and the reads made meanwhile
with their p50, p99 and max latency. Only 127.0.0.1 is ever contacted."""
import http.client
import random
import sys
import threading
import time

port, rows, base = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(1)
body = ('{"push_source_name":"events","df":{"ts":[%s],"user_id":[%s],"amount":[%s],'
        '"category":[%s],"is_mobile":[%s]}}' % (
            ",".join(str(base + j * 1000) for j in range(rows)),
            ",".join(str(rng.randint(1000, 100999)) for _ in range(rows)),
            ",".join(f"{rng.random() * 200:.2f}" for _ in range(rows)),
            ",".join('"dining"' for _ in range(rows)),
            ",".join("true" for _ in range(rows)))).encode()
read = b'{"features":["txn_count_1h"],"entities":{"user_id":[1000]}}'
latencies = []
stop = threading.Event()


def reader():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        started = time.perf_counter()
        conn.request("POST", "/get-online-features", body=read)
        conn.getresponse().read()
        latencies.append(time.perf_counter() - started)


thread = threading.Thread(target=reader)
thread.start()
time.sleep(0.3)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
started = time.perf_counter()
conn.request("POST", "/push", body=body, headers={"Content-Type": "application/json"})
resp = conn.getresponse()
resp.read()
took = time.perf_counter() - started
time.sleep(0.3)
stop.set()
thread.join()
ms = sorted(x * 1e3 for x in latencies)
print(f"RESULT push_rows={rows} push_mib={len(body) / 2**20:.1f} status={resp.status} "
      f"push_s={took:.3f} reads={len(ms)} p50_ms={ms[len(ms) // 2]:.3f} "
      f"p99_ms={ms[int(len(ms) * 0.99)]:.3f} max_ms={ms[-1]:.3f}")
