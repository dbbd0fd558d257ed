#!/usr/bin/env python3
"""`duel batch` at scale against a loopback OpenAI-compatible server.

    cargo build --release && python3 benches/batch.py [--items 1000] [--rpm 6000]

Three measurements, each with its baseline from the same run:
- pacing: ITEMS items × 2 models, each model on its own provider limited to RPM
  requests a minute. The floor is what the limit allows at best: (ITEMS - 1) × 60 / RPM
  seconds (the two providers run side by side). Reported: wall time / floor.
- CPU per item: user + sys of `duel batch` per item (two answers), against the same
  items asked with one `duel ask --json` process each, as a shell loop would.
- peak RSS against the suite's size: the same run, unpaced, with ITEMS / 4, ITEMS and
  ITEMS × 4 items; the ratio of the largest peak to the smallest.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "duel")
TOKENS = 40


def chunk(text):
    return "data: " + json.dumps({
        "id": "b", "object": "chat.completion.chunk", "model": "bench",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }) + "\n\n"


FINISH = "data: " + json.dumps({
    "id": "b", "object": "chat.completion.chunk", "model": "bench",
    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
}) + "\n\n"

BODY = "".join([chunk(f"word{i} ") for i in range(TOKENS)] + [
    FINISH,
    "data: " + json.dumps({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": TOKENS}}) + "\n\n",
    "data: [DONE]\n\n",
]).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with Handler.lock:
            Handler.count += 1
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


def serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def config(home, url, rpm):
    pace = f"rpm = {rpm}\n" if rpm else ""
    text = "[pair]\na = \"alpha\"\nb = \"beta\"\n"
    for provider in ("left", "right"):
        text += (f"\n[providers.{provider}]\nkind = \"openai\"\nbase_url = \"{url}/v1\"\n"
                 f"api_key_env = \"BENCH_KEY\"\n{pace}")
    text += "\n[[models]]\nname = \"alpha\"\nprovider = \"left\"\n"
    text += "\n[[models]]\nname = \"beta\"\nprovider = \"right\"\n"
    path = os.path.join(home, "config.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def suite(home, items):
    path = os.path.join(home, f"suite-{items}.jsonl")
    with open(path, "w") as f:
        for i in range(items):
            f.write(json.dumps({"id": f"q{i}", "prompt": f"question number {i}: say something"}) + "\n")
    return path


def measure(args):
    """Runs duel with ARGS; returns (wall seconds, cpu seconds, peak RSS in MiB)."""
    env = {"PATH": os.environ.get("PATH", ""), "BENCH_KEY": "bench", "HOME": args[0]}
    start = time.perf_counter()
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen([BINARY] + args[1:], env=env, stdout=subprocess.DEVNULL,
                            stderr=errors)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        errors.seek(0)
        tail = errors.read().decode(errors="replace")[-2000:]
        sys.exit(f"duel {' '.join(args[1:])} failed with status {status}:\n{tail}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def batch(home, url, items, rpm, concurrency=16):
    data = tempfile.mkdtemp(dir=home)
    cfg = config(home, url, rpm)
    path = suite(home, items)
    return measure([home, "--config", cfg, "--data-dir", data, "batch", path,
                    "--concurrency", str(concurrency)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rpm", type=int, default=6000)
    parser.add_argument("--ask-items", type=int, default=50)
    opts = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build first: cargo build --release")
    server = serve()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as home:
        # Pacing.
        before = Handler.count
        wall, cpu, rss = batch(home, url, opts.items, opts.rpm)
        sent = Handler.count - before
        floor = (opts.items - 1) * 60 / opts.rpm
        print(f"pacing: {opts.items} items × 2 models at {opts.rpm} rpm per provider, "
              f"{sent} requests")
        print(f"  wall {wall:.2f} s · floor {floor:.2f} s · ratio {wall / floor:.3f}")

        # CPU per item, against one `duel ask` per item.
        cfg = config(home, url, None)
        ask_cpu = 0.0
        for i in range(opts.ask_items):
            _, c, _ = measure([home, "--config", cfg, "--data-dir", home, "ask", "--json",
                               f"question number {i}: say something"])
            ask_cpu += c
        per_item = cpu / opts.items
        per_ask = ask_cpu / opts.ask_items
        print(f"CPU per item (two answers): batch {per_item * 1000:.2f} ms · "
              f"one `duel ask` per item {per_ask * 1000:.2f} ms · ratio {per_item / per_ask:.3f}")

        # Peak RSS against the suite's size, unpaced.
        sizes = [opts.items // 4, opts.items, opts.items * 4]
        peaks = []
        for n in sizes:
            wall, _, rss = batch(home, url, n, None)
            peaks.append(rss)
            print(f"  {n:>6} items: peak RSS {rss:.1f} MiB ({2 * n / wall:.0f} answers/s unpaced)")
        print(f"peak RSS, {sizes[-1]} items / {sizes[0]} items: ratio {peaks[-1] / peaks[0]:.3f}")
    server.shutdown()


if __name__ == "__main__":
    main()
