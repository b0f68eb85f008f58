"""Writes the delivery example's data: orders of a few restaurants over four weeks
(deterministic, no dependencies): python3 examples/delivery/make_data.py"""
import csv
import os
import random
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(23)
start = datetime(2024, 3, 1, tzinfo=timezone.utc)

rows = []
for i in range(1500):
    ts = start + timedelta(seconds=rng.randrange(28 * 86400))
    restaurant = rng.randrange(1, 13)
    # Some restaurants are slow; a few deliveries have no recorded time.
    minutes = None if rng.random() < 0.03 else round(rng.gauss(25 + 2 * restaurant, 8), 1)
    rows.append((ts, restaurant, minutes, rng.randrange(1, 6)))
rows.sort()
with open(os.path.join(HERE, "data", "orders.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["ts", "restaurant_id", "minutes", "items"])
    for ts, r, m, items in rows:
        w.writerow([ts.strftime("%Y-%m-%dT%H:%M:%SZ"), r, "" if m is None else m, items])

# Cancelled orders: another source with its own time column and a reason, read
# beside the orders by a view over both. A generator of its own, so the orders above
# do not change; some cancellations share an order's exact time.
cancel_rng = random.Random(31)
cancellations = []
for i in range(240):
    if cancel_rng.random() < 0.1:
        ts, restaurant = rows[cancel_rng.randrange(len(rows))][:2]
    else:
        ts = start + timedelta(seconds=cancel_rng.randrange(28 * 86400))
        restaurant = cancel_rng.randrange(1, 13)
    reason = cancel_rng.choice(["late", "closed", "customer", "courier"])
    cancellations.append((ts, restaurant, reason))
cancellations.sort()
with open(os.path.join(HERE, "data", "cancellations.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["cancelled_at", "restaurant_id", "reason"])
    for ts, r, reason in cancellations:
        w.writerow([ts.strftime("%Y-%m-%dT%H:%M:%SZ"), r, reason])

# The spine also carries what an order brings at request time (request `order`):
# where it is picked up and dropped off and, sometimes, its item count. A generator
# of its own, so the orders above do not change.
spine_rng = random.Random(29)
with open(os.path.join(HERE, "data", "spine.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["restaurant_id", "ts", "pickup_lat", "pickup_lon", "drop_lat", "drop_lon", "items"])
    for day in (7, 14, 21, 28):
        for r in range(1, 14):
            # Around Paris: restaurants and customers within a few kilometres.
            pickup = (round(48.85 + spine_rng.uniform(-0.03, 0.03), 5), round(2.35 + spine_rng.uniform(-0.05, 0.05), 5))
            drop = (round(pickup[0] + spine_rng.uniform(-0.04, 0.04), 5), round(pickup[1] + spine_rng.uniform(-0.06, 0.06), 5))
            items = "" if spine_rng.random() < 0.2 else spine_rng.randint(1, 6)
            w.writerow([r, (start + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ"), *pickup, *drop, items])
