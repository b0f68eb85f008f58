#!/usr/bin/env python3
"""bench/serve/probes.py: abusive clients against a running `featc serve`, one probe at
a time, each measured: what the server answered (status and error code, or that it
closed the connection), its peak resident memory and open file descriptors
(/proc/PID), and `GET /health` latency on a new connection every 100 ms meanwhile,
on the health listener (`--health-port`, where a deployment points its probes) and
on the data port, each from a process of its own with blocking sockets (so the
flood's event loop never delays a check: the figure is the server's). Python
standard library only (asyncio). Run by bench/serve_probes.sh.

    probes.py --port P [--health-port H] --pid PID --read-token T [--probe NAME]...

Prints one Markdown table row per probe."""

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import statistics
import time
from collections import Counter

HOST = "127.0.0.1"


def rss_and_fds(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


async def read_answer(reader, timeout):
    """(status, code) of one HTTP answer, or ("closed", "") / ("timeout", "")."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except asyncio.TimeoutError:
        return "timeout", ""
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        return "closed", ""
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ")[1]
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.lower() == "content-length":
            length = int(v.strip())
    try:
        body = await asyncio.wait_for(reader.readexactly(length), timeout)
        code = json.loads(body).get("error", {}).get("code", "") if body[:1] == b"{" else ""
    except Exception:  # a body cut short still says its status
        code = ""
    return status, code


def health_checks(port, ready, stop, results):
    """GET /health on a new connection to `port` every 100 ms from setting `ready`
    until `stop` is set; sends [(seconds, answered 200)] on `results`. Runs in a
    process of its own."""
    checks = []
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    ready.set()
    while not stop.is_set():
        started = time.monotonic()
        head = b""
        try:
            with socket.create_connection((HOST, port), timeout=2) as s:
                s.settimeout(max(0.1, 2 - (time.monotonic() - started)))
                s.sendall(request)
                while b"\r\n\r\n" not in head:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    head += chunk
        except OSError:
            pass
        took = time.monotonic() - started
        checks.append((took, head.startswith(b"HTTP/1.1 200")))
        stop.wait(max(0.0, 0.1 - took))
    results.send(checks)
    results.close()


class HealthWatch:
    """`health_checks` against one port, in a process of its own."""

    def __init__(self, port):
        context = multiprocessing.get_context("spawn")
        self.ready, self.stop = context.Event(), context.Event()
        self.results, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=health_checks,
                                       args=(port, self.ready, self.stop, sender))
        self.process.start()
        sender.close()
        self.checks = []

    async def started(self):
        """Returns once the first check is under way (a process takes a while to
        start; a probe of 0.1 s would otherwise see none)."""
        await asyncio.get_running_loop().run_in_executor(None, self.ready.wait)

    async def finish(self):
        self.stop.set()
        self.checks = await asyncio.get_running_loop().run_in_executor(None, self.results.recv)
        self.process.join()

    def cell(self):
        h = sorted(took for took, _ in self.checks) or [0.0]
        failed = sum(1 for _, ok in self.checks if not ok)
        return (f"{statistics.median(h) * 1e3:.1f} / {h[-1] * 1e3:.1f} ms "
                f"({len(self.checks)} checks, {failed} failed)")


class Watch:
    """Samples the server's memory and descriptors, and /health latency on the
    health listener (if any) and the data port."""

    def __init__(self, pid, port, health_port):
        self.pid = pid
        self.peak_rss = self.peak_fds = 0
        self.health = [HealthWatch(p) if p else None for p in (health_port, port)]
        self.running = True

    async def sample(self):
        while self.running:
            rss, fds = rss_and_fds(self.pid)
            self.peak_rss, self.peak_fds = max(self.peak_rss, rss), max(self.peak_fds, fds)
            await asyncio.sleep(0.05)

    async def started(self):
        await asyncio.gather(*(h.started() for h in self.health if h))

    async def finish(self):
        self.running = False
        await asyncio.gather(*(h.finish() for h in self.health if h))

    def row(self, name, answers, seconds):
        shown = ", ".join(f"{k} x{v}" for k, v in sorted(answers.items()))
        health = " | ".join(h.cell() if h else "-" for h in self.health)
        return (f"| {name} | {shown} | {self.peak_rss / 2**20:.0f} MiB | {self.peak_fds} | "
                f"{health} | {seconds:.1f} s |")


async def connect(port):
    return await asyncio.wait_for(asyncio.open_connection(HOST, port), 10)


async def idle(port, args):
    """Connections that never send a byte, held open until the server closes them."""
    answers = Counter()
    gate = asyncio.Semaphore(1000)

    async def one():
        async with gate:
            try:
                reader, writer = await connect(port)
            except (OSError, asyncio.TimeoutError):
                answers["refused at connect"] += 1
                return
        status, _ = await read_answer(reader, args.hold)
        answers["held open" if status == "timeout" else f"{status} by server"] += 1
        writer.close()

    await asyncio.gather(*(one() for _ in range(args.idle)))
    return answers


async def slowloris(port, args):
    """Connections sending a request's headers one byte at a time."""
    answers = Counter()
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"

    async def one():
        try:
            reader, writer = await connect(port)
        except (OSError, asyncio.TimeoutError):
            answers["refused at connect"] += 1
            return
        started = time.monotonic()
        try:
            for i in range(len(request)):
                writer.write(request[i:i + 1])
                await writer.drain()
                if reader.at_eof():
                    break
                await asyncio.sleep(0.5)
                if time.monotonic() - started > args.hold:
                    break
        except ConnectionError:
            pass
        status, code = await read_answer(reader, 1)
        took = time.monotonic() - started
        answers[f"{status} {code}".strip() + f" after ~{round(took)} s"] += 1
        writer.close()

    await asyncio.gather(*(one() for _ in range(args.slow)))
    return answers


async def send_all(port, requests, timeout=30):
    """Sends each request on a new connection at once; counts the answers."""
    answers = Counter()

    async def one(request):
        try:
            reader, writer = await connect(port)
            writer.write(request)
            await writer.drain()
        except (OSError, asyncio.TimeoutError):
            answers["refused at connect"] += 1
            return
        status, code = await read_answer(reader, timeout)
        answers[f"{status} {code}".strip()] += 1
        writer.close()

    await asyncio.gather(*(one(r) for r in requests))
    return answers


def post(path, body, token, content_type="application/json"):
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{auth}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def concurrent(port, args):
    """Many connections at once, each sending a valid read."""
    body = json.dumps({"features": ["user_spend:txn_count_7d"],
                       "entities": {"user_id": [1]}}).encode()
    return await send_all(port, [post("/get-online-features", body, args.read_token)] * args.concurrent)


ARROW = "application/vnd.apache.arrow.stream"


async def length_prefix(port, args):
    """Arrow bodies of 8 bytes declaring a 2 GiB message, reads and pushes."""
    bomb = bytes([0xFF] * 7 + [0x7F])
    reads = [post("/get-online-features", bomb, args.read_token, ARROW)] * (args.bombs // 2)
    pushes = [post("/push?push_source_name=transactions", bomb, args.push_token, ARROW)] * (args.bombs // 2)
    return await send_all(port, reads + pushes)


PROBES = {
    "idle": idle,
    "slowloris": slowloris,
    "length_prefix": length_prefix,
    "concurrent": concurrent,
}


async def unauthenticated_flood(port, args):
    """Pushes announcing 64 MiB with a wrong token, sending their body as fast as the
    server takes it: how much does it take before it answers?"""
    answers = Counter()
    chunk = b"\x00" * (1 << 20)

    async def one():
        try:
            reader, writer = await connect(port)
        except (OSError, asyncio.TimeoutError):
            answers["refused at connect"] += 1
            return
        head = (f"POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer wrong\r\nContent-Length: {64 << 20}\r\n\r\n").encode()
        sent = 0
        answer = asyncio.ensure_future(read_answer(reader, 30))
        try:
            writer.write(head)
            while sent < 64 << 20 and not answer.done():
                writer.write(chunk)
                await asyncio.wait_for(writer.drain(), 5)
                sent += len(chunk)
        except (ConnectionError, asyncio.TimeoutError):
            pass
        status, code = await answer
        answers[f"{status} {code}".strip() + (" (whole body sent)" if sent >= 64 << 20 else "")] += 1
        writer.close()

    await asyncio.gather(*(one() for _ in range(args.flood)))
    return answers


PROBES["unauthenticated_64MiB_pushes"] = unauthenticated_flood


async def run(args):
    names = args.probe or list(PROBES)
    for name in names:
        watch = Watch(args.pid, args.port, args.health_port)
        await watch.started()
        sampling = asyncio.ensure_future(watch.sample())
        started = time.monotonic()
        answers = await PROBES[name](args.port, args)
        seconds = time.monotonic() - started
        await watch.finish()
        await sampling
        print(watch.row(name, answers, seconds), flush=True)
        await asyncio.sleep(args.pause)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--health-port", type=int, default=0,
                   help="the server's --health-listen port (0: none)")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--read-token", default="")
    p.add_argument("--push-token", default="")
    p.add_argument("--probe", action="append", choices=sorted(PROBES))
    p.add_argument("--idle", type=int, default=20000)
    p.add_argument("--slow", type=int, default=2000)
    p.add_argument("--concurrent", type=int, default=10000)
    p.add_argument("--bombs", type=int, default=200)
    p.add_argument("--flood", type=int, default=200)
    p.add_argument("--hold", type=float, default=20.0)
    p.add_argument("--pause", type=float, default=3.0)
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    args.idle = min(args.idle, hard - 500)
    args.concurrent = min(args.concurrent, hard - 500)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
