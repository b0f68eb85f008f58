"""Regenerates the small, deterministic data of the fraud example (CSV).

    python3 make_data.py      # writes data/{transactions,logins,spine}.csv

Only the Python standard library is used; the output is committed, so running featc
on the example never needs Python.
"""
import csv
import random
from datetime import datetime, timedelta, timezone

rng = random.Random(11)
START = datetime(2024, 3, 1, tzinfo=timezone.utc)
USERS = list(range(1, 41))
MERCHANTS = ["m_books", "m_fuel", "m_games", "m_grocer", "m_travel", "m_cafe"]
CATEGORIES = {"m_books": "retail", "m_fuel": "fuel", "m_games": "gaming",
              "m_grocer": "grocery", "m_travel": "travel", "m_cafe": "dining"}
COUNTRIES = ["DE", "FR", "NL", "US"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main():
    txns = []
    for _ in range(1500):
        u = rng.choice(USERS[: rng.randint(5, 40)])  # low ids are busier
        m = rng.choice(MERCHANTS)
        t = START + timedelta(seconds=rng.randint(0, 30 * 86400))
        amount = "" if rng.random() < 0.03 else f"{rng.lognormvariate(3, 1.1):.2f}"
        mobile = "" if rng.random() < 0.02 else str(rng.random() < 0.45).lower()
        txns.append([u, m, iso(t), amount, CATEGORIES[m], mobile])
    rng.shuffle(txns)
    with open("data/transactions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "merchant_id", "ts", "amount", "category", "is_mobile"])
        w.writerows(txns)

    logins = []
    for _ in range(800):
        u = rng.choice(USERS)
        t = START + timedelta(seconds=rng.randint(0, 30 * 86400))
        logins.append([u, iso(t), str(rng.random() < 0.85).lower(), rng.choice(COUNTRIES)])
    with open("data/logins.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "ts", "success", "country"])
        w.writerows(logins)

    spine = []
    for _ in range(300):
        u, m = rng.choice(USERS + [99]), rng.choice(MERCHANTS)
        t = START + timedelta(seconds=rng.randint(-86400, 32 * 86400))
        spine.append([u, m, iso(t), int(rng.random() < 0.1)])
    with open("data/spine.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "merchant_id", "ts", "is_fraud"])
        w.writerows(spine)


if __name__ == "__main__":
    main()
