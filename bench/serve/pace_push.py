"""Pushes synthetic events to `featc serve` at a fixed rate (stdlib only), for the
"reads while pushes run" rows of bench/serve.sh.

    python3 pace_push.py PORT EVENTS_PER_S SECONDS [ROWS_PER_PUSH] [BASE_US]

Prints one RESULT line: pushes sent, events acknowledged, achieved rate, errors.
Only 127.0.0.1 is ever contacted."""
import http.client
import random
import sys
import time

port, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
rows = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
base = int(sys.argv[5]) if len(sys.argv) > 5 else 1_800_000_000_000_000
rng = random.Random(7)
cats = ['"grocery"', '"dining"', '"travel"', '"fuel"', '"online"']


def body(k):
    ts = ",".join(str(base + (k * rows + j) * 1000) for j in range(rows))
    users = ",".join(str(rng.randint(1000, 100999)) for _ in range(rows))
    amounts = ",".join(f"{rng.random() * 200:.2f}" for _ in range(rows))
    categories = ",".join(rng.choice(cats) for _ in range(rows))
    mobile = ",".join("true" if rng.random() < 0.4 else "false" for _ in range(rows))
    return ('{"push_source_name":"events","df":{"ts":[%s],"user_id":[%s],"amount":[%s],'
            '"category":[%s],"is_mobile":[%s]}}' % (ts, users, amounts, categories, mobile)).encode()


bodies = [body(k) for k in range(64)]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
interval = rows / rate
start = time.perf_counter()
sent = acked = errors = 0
while time.perf_counter() - start < seconds:
    due = start + sent * interval
    now = time.perf_counter()
    if due > now:
        time.sleep(due - now)
    conn.request("POST", "/push", body=bodies[sent % len(bodies)],
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    if resp.status == 200:
        acked += rows
    else:
        errors += 1
    sent += 1
took = time.perf_counter() - start
print(f"RESULT pushes={sent} events={acked} events_per_s={acked / took:.0f} errors={errors}")
