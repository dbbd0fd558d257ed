#!/usr/bin/env python3
"""End-to-end speed of `duel ask` against a loopback server, with a baseline from the
same run: `curl -N` fetching the same two streams in parallel.

    cargo build --release && python3 benches/e2e.py [--tokens 20000] [--runs 5]

Two measurements:
- paced: the server streams TOKENS OpenAI chunks per side, one write each, as fast as
  it can; wall time of `duel ask --json` against two parallel `curl -N` (ratio).
- one write: the server sends each whole stream in a single write, so the time left
  is the client's own; CPU (user + sys) of `duel ask` per token received, and the
  same with the fixed cost of a one-token answer taken off.
"""

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chunk(text):
    return "data: " + json.dumps({
        "id": "b", "object": "chat.completion.chunk", "model": "bench",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }) + "\n\n"


def stream_body(tokens):
    parts = [chunk(f"tok{i} ") for i in range(tokens)]
    parts.append("data: " + json.dumps({
        "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": tokens}}) + "\n\n")
    parts.append("data: [DONE]\n\n")
    return [p.encode() for p in parts]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    parts = []
    one_write = False

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        if self.one_write:
            self.wfile.write(b"".join(self.parts))
        else:
            for part in self.parts:
                self.wfile.write(part)
        self.wfile.flush()
        self.close_connection = True


def start_server(parts, one_write):
    handler = type("H", (Handler,), {"parts": parts, "one_write": one_write})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def config(url):
    return f"""
[pair]
a = "left"
b = "right"
[providers.bench]
kind = "openai"
base_url = "{url}/v1"
[[models]]
name = "left"
provider = "bench"
[[models]]
name = "right"
provider = "bench"
"""


def timed(cmds, env):
    """Wall time of running `cmds` in parallel, and their CPU seconds (user + sys)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for c in cmds]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(f"{cmds[0][0]} failed: {err.decode()[-500:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--tokens", type=int, default=20000)
    args.add_argument("--runs", type=int, default=5)
    args.add_argument("--duel", default=os.path.join(ROOT, "target", "release", "duel"))
    opts = args.parse_args()
    parts = stream_body(opts.tokens)
    body = json.dumps({"model": "bench", "stream": True,
                       "messages": [{"role": "user", "content": "go"}]})
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DUEL_DATA_DIR=os.path.join(tmp, "data"),
                   XDG_CONFIG_HOME=os.path.join(tmp, "xdg"))
        env.pop("DUEL_LOG", None)
        for one_write in (False, True):
            server = start_server(parts, one_write)
            url = f"http://127.0.0.1:{server.server_address[1]}"
            path = os.path.join(tmp, "config.toml")
            with open(path, "w") as f:
                f.write(config(url))
            duel = [[opts.duel, "--config", path, "ask", "--json", "go"]]
            curl = [["curl", "-sN", "-X", "POST", "-H", "content-type: application/json",
                     "-d", body, f"{url}/v1/chat/completions"]] * 2
            rows = {"curl": [], "duel": []}
            for _ in range(opts.runs):
                rows["curl"].append(timed(curl, env))
                rows["duel"].append(timed(duel, env))
            server.shutdown()
            curl_wall = statistics.median(w for w, _ in rows["curl"])
            duel_wall = statistics.median(w for w, _ in rows["duel"])
            duel_cpu = statistics.median(c for _, c in rows["duel"])
            mode = "one write per stream" if one_write else "one write per token"
            print(f"{mode}: {opts.tokens} tokens per side, median of {opts.runs}")
            print(f"  curl -N x2 (baseline) wall {curl_wall * 1000:8.1f} ms  1.00x")
            print(f"  duel ask --json       wall {duel_wall * 1000:8.1f} ms  "
                  f"{duel_wall / curl_wall:.2f}x")
            print(f"  duel CPU {duel_cpu * 1000:.1f} ms = "
                  f"{duel_cpu / (2 * opts.tokens) * 1e6:.2f} us per token (both sides)")
            if one_write:
                # The fixed cost (process start, config, TLS roots for the HTTP
                # client, output) from a one-token answer, so the rest is per token.
                server = start_server(stream_body(1), True)
                url = f"http://127.0.0.1:{server.server_address[1]}"
                with open(path, "w") as f:
                    f.write(config(url))
                fixed = statistics.median(timed(duel, env)[1] for _ in range(opts.runs))
                server.shutdown()
                print(f"  duel CPU for a 1-token answer (fixed cost) {fixed * 1000:.1f} ms; "
                      f"the rest is {(duel_cpu - fixed) / (2 * opts.tokens) * 1e6:.2f} us "
                      f"per token")


if __name__ == "__main__":
    main()
