"""Throughput and latency of ``python -m review_cls.serve`` under load: 1, 8 and 32 concurrent clients, dynamic
batching on (``max_batch_size=32``) and off (``max_batch_size=1``), PyTorch and ONNX Runtime int8, one server worker
with one thread (the load generator has the other core).

Before the servers, the script times the model alone in this process (one thread, no HTTP), on groups of 32 reviews
cut into length-sorted forward passes of 8, 16 or 32 against one review per pass: what serve's ``batch_size`` costs.

Loopback only (the server binds 127.0.0.1 at a free port), and bounded: each level stops after ``--requests``
requests or ``--seconds`` seconds, whichever comes first, and the script stops every server it started. Each client
sends one Google Play review per request (``{"text": ...}``) and the next as soon as the answer is back. Every repeat
starts each server once and runs the levels on it, the servers interleaved; the tables are medians over repeats.

    python -m bench.serve_load --repeats 3 --requests 600 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import GOOGLE_PLAY, RESULTS, machine, median, require, save_result
from bench.inference_throughput import make_checkpoint

CLIENTS = (1, 8, 32)
# server -> (runtime, model folder key, max_batch_size)
SERVERS = {
    "torch_batched": ("torch", "ckpt", 32),
    "torch_unbatched": ("torch", "ckpt", 1),
    "onnx_int8_batched": ("onnx", "int8", 32),
    "onnx_int8_unbatched": ("onnx", "int8", 1),
}
WARM_UP = 20
START_S = 600


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def export_int8(ckpt: Path, folder: Path) -> Path:
    """The checkpoint as an ONNX int8 export folder (made once)."""
    if not (folder / "model.onnx").is_file():
        subprocess.run([sys.executable, "-m", "review_cls.export", f"ckpt_path={ckpt}", f"out={folder}",
                        "format=onnx", "quantize=int8", "overwrite=true"], check=True, capture_output=True)
    return folder


class Server:
    """``python -m review_cls.serve`` on 127.0.0.1 at a free port, one worker with one thread."""

    def __init__(self, model: Path, runtime: str, max_batch_size: int, batch_timeout: float, threads: int,
                 log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        command = [sys.executable, "-m", "review_cls.serve", f"ckpt_path={model}", f"runtime={runtime}", "device=cpu",
                   f"port={self.url.rsplit(':', 1)[1]}", "host=127.0.0.1", "workers=1", f"threads={threads}",
                   f"max_batch_size={max_batch_size}", f"batch_timeout={batch_timeout}"]
        env = os.environ | {"OMP_NUM_THREADS": str(threads)}
        self.process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
        try:
            self.wait_healthy(log)
        except BaseException:
            self.stop()
            raise

    def wait_healthy(self, log: Path) -> None:
        import httpx

        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def load(url: str, texts: list[str], clients: int, requests: int, seconds: float) -> dict[str, float]:
    """``clients`` closed-loop clients until ``requests`` answers or ``seconds`` have passed: requests/s and latency
    percentiles (ms) of the answered requests."""
    import httpx

    latencies: list[float] = []
    sent = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        for text in texts[:WARM_UP]:
            (await client.post("/predict", json={"text": text})).raise_for_status()
        started = time.perf_counter()
        deadline = started + seconds

        async def one_client() -> None:
            nonlocal sent
            while sent < requests and time.perf_counter() < deadline:
                text = texts[sent % len(texts)]
                sent += 1
                begun = time.perf_counter()
                (await client.post("/predict", json={"text": text})).raise_for_status()
                latencies.append(time.perf_counter() - begun)

        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    milliseconds = np.asarray(latencies) * 1000
    return {"requests": len(latencies), "seconds": elapsed, "requests_per_s": len(latencies) / elapsed,
            **{f"p{q}_ms": float(np.percentile(milliseconds, q)) for q in (50, 95, 99)}}


def inner_batches(models: dict[str, tuple[str, Path]], texts: list[str], repeats: int,
                  threads: int) -> dict[str, dict[str, list]]:
    """Reviews/s of the model alone: one review per forward pass, or groups of 32 (what a full batch of 32 one-review
    requests hands a worker) cut into length-sorted passes of 8, 16 or 32 reviews; interleaved, the worker's threads."""
    import torch

    from review_cls.inference.predictor import load_predictor

    torch.set_num_threads(threads)
    sample = texts[:192]
    rates: dict[str, dict[str, list]] = {name: {} for name in models}
    for _ in range(repeats):
        for name, (runtime, model) in models.items():
            predictor = load_predictor(model, runtime, "cpu", blend=False)
            for size in (1, 8, 16, 32):
                started = time.perf_counter()
                for start in range(0, len(sample), 32 if size > 1 else 1):
                    predictor.predict_probabilities(sample[start : start + (32 if size > 1 else 1)], size)
                rates[name].setdefault(str(size), []).append(len(sample) / (time.perf_counter() - started))
    return rates


def summary_table(runs: dict[str, dict[str, list[dict[str, float]]]]) -> pd.DataFrame:
    """Medians over repeats, one row per server and client count, with batched / unbatched throughput."""
    keys = ("requests_per_s", "p50_ms", "p95_ms", "p99_ms")
    medians = {(server, int(clients)): {key: median([result[key] for result in results]) for key in keys}
               for server, levels in runs.items() for clients, results in levels.items() if results}
    rows = []
    for (server, clients), values in medians.items():
        unbatched = medians.get((server.replace("_batched", "_unbatched"), clients))
        ratio = values["requests_per_s"] / unbatched["requests_per_s"] \
            if server.endswith("_batched") and unbatched else None
        rows.append({"server": server, "clients": clients, **values, "batched_vs_unbatched": ratio})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=600, help="requests per level at most")
    parser.add_argument("--seconds", type=float, default=30, help="seconds per level at most")
    parser.add_argument("--batch-timeout", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=1, help="torch / ONNX Runtime threads of the server's worker")
    parser.add_argument("--ckpt", type=Path, default=None)
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=list(SERVERS))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # a stopped run stops its servers too
    name = "serve_load" if args.threads == 1 else f"serve_load_{args.threads}_threads"
    work = RESULTS / "serve_work"
    work.mkdir(parents=True, exist_ok=True)
    ckpt = args.ckpt or make_checkpoint(work / "run")
    models = {"ckpt": ckpt, "int8": export_int8(ckpt, work / "int8")}
    texts = pd.read_excel(require(GOOGLE_PLAY))["review"].astype(str).sample(frac=1.0, random_state=0).tolist()
    result = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
              "runs": {name: {str(clients): [] for clients in CLIENTS} for name in args.servers}}
    inner = inner_batches({"torch": ("torch", models["ckpt"]), "onnx_int8": ("onnx", models["int8"])}, texts,
                          args.repeats, args.threads)
    result["model_alone_reviews_per_s"] = {name: {size: median(values) for size, values in sizes.items()}
                                           for name, sizes in inner.items()}
    print("model alone, reviews/s by forward-pass size:", result["model_alone_reviews_per_s"], flush=True)
    for repeat in range(args.repeats):
        for server_name in args.servers:
            runtime, model, max_batch_size = SERVERS[server_name]
            server = Server(models[model], runtime, max_batch_size, args.batch_timeout, args.threads,
                            work / f"{server_name}.log")
            try:
                for clients in CLIENTS:
                    measured = asyncio.run(load(server.url, texts, clients, args.requests, args.seconds))
                    result["runs"][server_name][str(clients)].append(measured)
                    print(f"repeat {repeat} {server_name} {clients} clients: {measured['requests_per_s']:.1f} req/s, "
                          f"p50 {measured['p50_ms']:.0f} ms, p99 {measured['p99_ms']:.0f} ms", flush=True)
                    save_result(name, result)
            finally:
                server.stop()
    table = summary_table(result["runs"])
    result["medians"] = table.to_dict("records")
    print(table.to_string(index=False, float_format=lambda value: f"{value:.2f}"))
    save_result(name, result)


if __name__ == "__main__":
    main()
