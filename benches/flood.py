#!/usr/bin/env python3
"""A hostile server floods one pane: tiny valid chunks as fast as it can send them,
without end (it ignores max_tokens). Measured on the release binary in a
pseudo-terminal, against the other pane streaming a normal answer:

    cargo build --release && python3 benches/flood.py [--secs 12]

- memory: RSS every second while the flood runs, and its peak (duel must stay
  bounded: the answer is cut at its size limit);
- responsiveness: a key typed into the prompt box, to the moment the terminal
  receives it drawn (a character the flood never sends), median and worst of
  several while the flood runs; baseline: the same with no flood;
- growth: both panes at a steady 8,700 tokens/s in one paragraph for 10 s, RSS
  gained per byte of the two answers (baseline: the answers themselves, 1x).
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tui  # noqa: E402  (the shared PTY harness and loopback server)

MARK = "§".encode()


class Flood(tui.Handler):
    """`/flood/v1/…`: one-character chunks, as fast as the socket takes them."""

    def do_POST(self):
        if not self.path.startswith("/flood/"):
            return super().do_POST()
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        batch = tui.chunk("x") * 256
        try:
            while True:
                self.wfile.write(batch)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.close_connection = True


class Screen(tui.Tui):
    """Also keeps every byte, to find when a typed character was drawn."""

    keep_raw = True

    def echo(self, timeout):
        """Types the mark, returns seconds until it was drawn (None: never), deletes it."""
        with self.lock:
            start = len(self.raw)
        t = time.perf_counter()
        self.send(MARK)
        seen = None
        while time.perf_counter() - t < timeout:
            with self.lock:
                if self.raw.find(MARK, start) >= 0:
                    seen = time.perf_counter() - t
                    break
            time.sleep(0.0005)
        self.send(b"\x7f")  # Backspace
        time.sleep(0.05)
        return seen


def run(opts, tmp, name, url_a, url_b):
    ui, _ = tui.session(opts, tmp, name, url_a, url_b, Screen)
    ui.wait_frames(1)
    time.sleep(0.3)
    ui.send(b"go\r")
    time.sleep(0.5)
    rss, echoes = [], []
    start = time.perf_counter()
    while time.perf_counter() - start < opts.secs:
        echoes.append(ui.echo(opts.timeout))
        rss.append(ui.memory("VmRSS"))
        if rss[-1] > opts.max_rss:
            print(f"  {name}: RSS {rss[-1]:.0f} MB past {opts.max_rss} MB, stopped")
            break
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - start) % 1.0))
    peak = ui.memory("VmHWM")
    ui.send(b"\x1b")  # Esc: stop
    ui.proc.kill()
    ui.proc.wait()
    os.close(ui.master)
    drawn = [e for e in echoes if e is not None]
    return rss, peak, drawn, len(echoes) - len(drawn)


def growth(opts, tmp, url, rate=8700, secs=10):
    """RSS gained while both panes stream `rate` tokens/s, per byte of answer."""
    paced = f"{url}/paced/{rate}/{secs}/0"
    ui, data_dir = tui.session(opts, tmp, "growth", paced, paced)
    ui.wait_frames(1)
    time.sleep(0.3)
    idle = ui.memory("VmRSS")
    ui.send(b"go\r")
    a, b = tui.saved_answers(data_dir, secs * 3 + 30)
    rss, peak = ui.memory("VmRSS"), ui.memory("VmHWM")
    ui.quit()
    answers = (len(a["answer"].encode()) + len(b["answer"].encode())) / 1e6
    return idle, rss, peak, answers


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--secs", type=float, default=12)
    args.add_argument("--timeout", type=float, default=3)
    args.add_argument("--max-rss", type=float, default=3000)
    args.add_argument("--duel", default=os.path.join(tui.ROOT, "target", "release", "duel"))
    opts = args.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flood)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    normal = f"{url}/paced/50/600/60"
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            ("no flood (baseline)", run(opts, tmp, "calm", normal, normal)),
            ("pane A flooded", run(opts, tmp, "flood", f"{url}/flood", normal)),
        ]
        grown = growth(opts, tmp, url)
    server.shutdown()
    base = statistics.median(results[0][1][2]) if results[0][1][2] else float("nan")
    print(f"flood: one pane sent 1-character chunks without end, for {opts.secs:.0f} s")
    for name, (rss, peak, drawn, lost) in results:
        med = statistics.median(drawn) if drawn else float("nan")
        worst = max(drawn) if drawn else float("nan")
        print(f"  {name:20} RSS about a second apart {' '.join(f'{r:.0f}' for r in rss)} MB, "
              f"peak {peak:.0f} MB")
        print(f"  {'':20} key echo median {med * 1000:7.1f} ms ({med / base:.1f}x), "
              f"worst {worst * 1000:7.1f} ms, never drawn within "
              f"{opts.timeout:.0f} s: {lost} of {len(drawn) + lost}")
    print("growth: 2 panes x 8,700 tokens/s for 10 s, one paragraph")
    idle, rss, peak, answers = grown
    print(f"  the two answers (baseline)  {answers:6.2f} MB  1.0x")
    print(f"  RSS gained                  {rss - idle:6.2f} MB  {(rss - idle) / answers:.1f}x "
          f"(idle {idle:.0f} MB, peak {peak:.0f} MB)")


if __name__ == "__main__":
    main()
