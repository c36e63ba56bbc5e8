"""Load check for ``reportedly serve`` on loopback.

Starts the server as a subprocess on 127.0.0.1 (a free port), then N concurrent clients post
articles to ``POST /api/analyze`` for a fixed time, bounded also by a total request count; the
run stops by itself. Prints requests/s, latency percentiles, errors (anything but 200) and the
resident memory of the server (its worker processes included) at start, at the end and at its peak (sampled every half second).

    python bench/serve_load.py                      # 50 clients, 30 s
    python bench/serve_load.py --clients 10 --duration 5

Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from reportedly.interfaces.cli import sample_path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _rss_one(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:  # exited between the scan and the read
        pass
    return 0.0


def rss_mib(pid: int) -> float:
    """Resident memory of the server and its worker processes (with --workers, uvicorn forks)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return sum(_rss_one(p) for p in tree)


def articles() -> list[dict[str, str]]:
    """The bundled sample and variants of it (different lengths and texts), as request bodies."""
    text = sample_path().read_text(encoding="utf-8")
    paras = [p for p in text.split("\n\n") if p.strip()]
    half = len(paras) // 2
    variants = [
        text,
        "\n\n".join(paras[:half]),
        "\n\n".join(paras[half:]),
        "\n\n".join(reversed(paras)),
    ]
    for i in range(4):
        variants.append(
            f"Officials said on day {i} that the bridge would reopen, according to Reuters. "
            f"“We are confident,” the mayor told reporters. Two engineers who asked not to be named said "
            f"the repairs may have been rushed.\n\n{paras[(i + 4) % len(paras)]}"
        )
    return [{"text": v, "outlet": "Slate"} for v in variants]


async def client_loop(
    client: httpx.AsyncClient,
    bodies: list[dict[str, str]],
    offset: int,
    deadline: float,
    budget: list[int],
    latencies: list[float],
    errors: Counter[str],
) -> None:
    i = offset
    while time.monotonic() < deadline and budget[0] > 0:
        budget[0] -= 1
        body = bodies[i % len(bodies)]
        i += 1
        started = time.perf_counter()
        try:
            r = await client.post("/api/analyze", json=body)
            if r.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors[f"HTTP {r.status_code}"] += 1
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1


@dataclass
class LoadResult:
    latencies: list[float]
    errors: Counter[str]
    elapsed: float
    peak_rss: float


async def load(base: str, clients: int, duration: float, max_requests: int, pid: int) -> LoadResult:
    bodies = articles()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    budget = [max_requests]
    peak = rss_mib(pid)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        start = time.monotonic()
        deadline = start + duration
        tasks = [asyncio.create_task(client_loop(client, bodies, k, deadline, budget, latencies, errors)) for k in range(clients)]

        async def sample_rss() -> None:
            nonlocal peak
            while not all(t.done() for t in tasks):
                peak = max(peak, rss_mib(pid))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample_rss())
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - start
        await sampler
    return LoadResult(latencies, errors, elapsed, peak)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of load (capped at 600)")
    ap.add_argument("--max-requests", type=int, default=100_000, help="stop after this many requests in all")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = ap.parse_args()
    duration = min(args.duration, 600.0)

    port = free_port()
    base = f"http://{HOST}:{port}"
    cmd = [sys.executable, "-m", "reportedly", "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]
    cmd += ["--workers", str(args.workers)]
    server = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                sys.exit(f"server exited with {server.returncode}")
            try:
                health = httpx.get(f"{base}/healthz", timeout=2).json()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    sys.exit("server did not come up in 180 s")
                time.sleep(0.2)
        rss_before = rss_mib(server.pid)
        print(f"server: {' '.join(cmd[1:])}  (pid {server.pid}, {health['pipeline']})")
        print(f"load: {args.clients} clients posting {len(articles())} article variants for {duration:g} s on {base}")
        result = asyncio.run(load(base, args.clients, duration, args.max_requests, server.pid))
        rss_after = rss_mib(server.pid)
        still_up = httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    latencies, errors, elapsed = sorted(result.latencies), result.errors, result.elapsed
    n_err = sum(errors.values())
    total = len(latencies) + n_err
    print(f"requests: {total} in {elapsed:.1f} s = {total / elapsed:.1f} requests/s ({len(latencies) / elapsed:.1f} ok/s)")
    if latencies:
        print(
            f"latency (ok): p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p90 {percentile(latencies, 0.9) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms, "
            f"mean {statistics.fmean(latencies) * 1000:.0f} ms"
        )
    print(f"errors: {n_err}" + (f" ({', '.join(f'{k}: {v}' for k, v in errors.most_common())})" if n_err else ""))
    print(
        f"server RSS: {rss_before:.0f} MiB before, {rss_after:.0f} MiB after, peak {result.peak_rss:.0f} MiB "
        f"(+{rss_after - rss_before:.0f} MiB); healthz after the run: {'ok' if still_up else 'FAILED'}"
    )
    if n_err or not still_up:
        sys.exit(1)


if __name__ == "__main__":
    main()
