"""Writes the checkout example's data: eight weeks of card payments of twenty
shoppers at eight merchants, their logins, and the chargebacks reported against the
merchants (deterministic, no dependencies): python3 examples/checkout/make_data.py"""
import csv
import json
import os
import random
from datetime import date, datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
start = datetime(2024, 5, 1, tzinfo=timezone.utc)
WEEKS = 8
USERS = range(1, 21)
MERCHANTS = [f"m{i}" for i in range(1, 9)]
# Two merchants draw most chargebacks: their risk shows in the lookups.
RISKY = {"m3": 6, "m7": 4}
TAGS = ["gift_card", "promo", "subscription", "digital", "express"]


def when(rng):
    return start + timedelta(seconds=rng.randrange(WEEKS * 7 * 86400))


def stamp(ts):
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def embedding(rng, dims=4):
    # Quarter steps: exact as float32, as float64 and as JSON text.
    return [rng.randrange(-8, 9) / 4 for _ in range(dims)]


rng = random.Random(41)
payments = []
for i in range(2400):
    ts = when(rng)
    # Some payments share an instant: ties at a count window's cut.
    if payments and rng.random() < 0.05:
        ts = payments[rng.randrange(len(payments))][0]
    user = rng.choice(USERS)
    merchant = rng.choice(MERCHANTS)
    cents = max(1, int(rng.lognormvariate(8.0, 1.0)))
    amount = f"{cents // 100}.{cents % 100:02d}"
    expiry = "" if rng.random() < 0.1 else (date(2024, 6, 30) + timedelta(days=30 * rng.randrange(0, 36))).isoformat()
    basket = "" if rng.random() < 0.05 else json.dumps(embedding(rng))
    merchant_emb = json.dumps(embedding(rng))
    roll = rng.random()
    labels = "" if roll < 0.1 else ("[]" if roll < 0.3 else json.dumps(rng.sample(TAGS, rng.randrange(1, 3))))
    payments.append((ts, user, merchant, amount, rng.choice(["EUR", "EUR", "USD"]), expiry, basket, merchant_emb, labels))
payments.sort(key=lambda p: (p[0], p[1], p[2], p[3]))

# Where each payment ships (a struct holding a struct) and the risk signals the
# payment provider sent (a map): JSON text in the CSV, with null structs, null
# fields, empty maps and, now and then, a repeated key (the last one counts).
nested_rng = random.Random(59)


def shipping(rng):
    if rng.random() < 0.1:
        return ""
    geo = None if rng.random() < 0.2 else {"lat": rng.randrange(-360, 361) / 4, "lon": None if rng.random() < 0.1 else rng.randrange(-720, 721) / 4}
    country = None if rng.random() < 0.1 else rng.choice(["NL", "DE", "FR", "US"])
    return json.dumps({"country": country, "express": rng.random() < 0.3, "geo": geo})


def risk(rng):
    roll = rng.random()
    if roll < 0.1:
        return ""
    if roll < 0.2:
        return "{}"
    signals = {k: rng.randrange(0, 101) / 100 for k in rng.sample(["velocity", "ip_distance", "device_age"], rng.randrange(1, 4))}
    text = json.dumps(signals)
    if roll > 0.95:
        # A repeated key: the provider resent a signal; the later value counts.
        text = text[:-1] + ', "velocity": 0.99}'
    return text


payments = [(*p, shipping(nested_rng), risk(nested_rng)) for p in payments]
with open(os.path.join(DATA, "payments.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["ts", "user_id", "merchant_id", "amount", "currency", "card_expiry", "basket_emb", "merchant_emb", "labels", "shipping", "risk"])
    for p in payments:
        w.writerow([stamp(p[0]), *p[1:]])

# Logins of the same shoppers: a second source, read with the payments by one view.
login_rng = random.Random(43)
logins = []
for i in range(1600):
    ts = when(login_rng)
    if login_rng.random() < 0.1:
        ts, user = payments[login_rng.randrange(len(payments))][:2]
    else:
        user = login_rng.choice(USERS)
    logins.append((ts, user, login_rng.choice(["ios", "android", "web"]), login_rng.random() < 0.15))
logins.sort()
with open(os.path.join(DATA, "logins.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["ts", "user_id", "device", "failed"])
    for ts, user, device, failed in logins:
        w.writerow([stamp(ts), user, device, "true" if failed else "false"])

# Chargebacks, reported a few days after a payment at the merchant.
cb_rng = random.Random(47)
chargebacks = []
for p in payments:
    weight = RISKY.get(p[2], 0.3)
    if cb_rng.random() < 0.01 * weight:
        reported = p[0] + timedelta(days=cb_rng.randrange(1, 6), seconds=cb_rng.randrange(86400))
        chargebacks.append((reported, p[2], p[3]))
chargebacks.sort()
with open(os.path.join(DATA, "chargebacks.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["reported_at", "merchant_id", "amount"])
    for ts, merchant, amount in chargebacks:
        w.writerow([stamp(ts), merchant, amount])

# The spine: each shopper at a merchant at the end of each week, with the amount
# the checkout asks about (request `checkout`).
spine_rng = random.Random(53)
with open(os.path.join(DATA, "spine.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["user_id", "merchant_id", "ts", "amount"])
    for week in range(1, WEEKS + 1):
        for user in USERS:
            merchant = spine_rng.choice(MERCHANTS)
            w.writerow([user, merchant, stamp(start + timedelta(days=7 * week)), round(spine_rng.uniform(5, 400), 2)])
