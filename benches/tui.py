#!/usr/bin/env python3
"""The TUI measured as a user runs it: the release binary in a pseudo-terminal
(160x48) against a loopback server, each figure beside a baseline from the same run.

    cargo build --release && python3 benches/tui.py [--secs 20] [--rate 1000]
        [--writes batched|token] [--rates 20,100,1000]

- start-up: process start to the end of the first frame drawn, against the same
  binary's `--version` (process start to exit); RSS once idle.
- load: both panes streaming RATE tokens/s for SECS: CPU % of one core, frames drawn
  per second, peak RSS, and whether every token reached the saved conversation;
  baseline: two `curl -N` reading the same two streams at the same time. Once as
  prose in paragraphs of 60 tokens, once as a single paragraph (the worst case: the
  block still streaming is the whole answer), once as a single code block in lines of 8
  tokens (highlighted as it grows). `--only load` runs the loads alone.
- writes: `batched` sends the tokens due every 10 ms in one write; `token` sends each
  token as its own SSE event in a write of its own, on time, chunked (an HTTP chunk a
  token, the terminator in a write of its own), as vLLM, llama.cpp and most vendors
  flush. `--rates` runs the loads at each rate (default: `--rate`), and
  every load also reports duel's context switches per second; an idle duel over the
  same time is the baseline for both.
- keystroke: Page Up / Page Down to the end of the frame that shows it, with a
  1 MB Markdown answer in each pane, against the same with 10 KB answers; RSS.

Frames are counted by their end marker: duel draws each frame as a synchronized
update (`ESC [ ? 2026 l` ends one).
"""

import argparse
import fcntl
import json
import os
import resource
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAME_END = b"\x1b[?2026l"
ROWS, COLS = 48, 160
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def chunk(text):
    return ("data: " + json.dumps({
        "id": "b", "object": "chat.completion.chunk", "model": "bench",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }) + "\n\n").encode()


def end(tokens):
    return ("data: " + json.dumps({
        "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": tokens}})
        + "\n\ndata: [DONE]\n\n").encode()


def sample_answer(size):
    """About `size` bytes of a typical answer: prose, a list, a table, code."""
    piece = ("## Section\n\nSome **bold** prose with `inline code`, a "
             "[link](https://example.com) and 中文 text that wraps.\n\n- first item\n"
             "- second item with *emphasis*\n  1. nested\n\n| a | b |\n|---|---|\n"
             "| 1 | two |\n\n```rust\nfn main() {\n    let x = vec![1, 2, 3];\n"
             "    println!(\"{x:?}\");\n}\n```\n\n")
    out, length, i = [], 0, 0
    while length < size:
        out.append(piece.replace("x = vec", f"x{i} = vec"))
        length += len(out[-1].encode())
        i += 1
    return "".join(out)


class Handler(BaseHTTPRequestHandler):
    """`/paced/RATE/SECS/PARA/v1/…` streams `tok<i> ` tokens at RATE per second for
    SECS, a blank line after every PARA tokens (0: one paragraph);
    `/bulk/SIZE/v1/…` streams a SIZE-byte Markdown answer as fast as it can."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        parts = self.path.strip("/").split("/")
        # Per-token writes stream as real servers do: chunked, each event a chunk of
        # its own, and the terminator in a write of its own.
        self.chunked = parts[0] == "paced" and parts[4] == "token"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        if self.chunked:
            self.send_header("transfer-encoding", "chunked")
        self.send_header("connection", "close")
        self.end_headers()
        try:
            if parts[0] == "paced":
                self.paced(int(parts[1]), float(parts[2]), int(parts[3]), parts[4])
                if self.chunked:
                    self.wfile.flush()
                    time.sleep(0.005)
                    self.wfile.write(b"0\r\n\r\n")
            else:
                text = sample_answer(int(parts[1]))
                pieces = [text[i:i + 32] for i in range(0, len(text), 32)]
                self.wfile.write(b"".join(chunk(p) for p in pieces) + end(len(pieces)))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def paced(self, rate, secs, paragraph, writes):
        """Tokens on a schedule that does not drift: in batches every 10 ms, or
        (`writes` = token) each in a write of its own at its time."""
        total = int(rate * secs)
        start = time.perf_counter()
        sent = 0
        if writes == "token":
            for i in range(total):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                self.wfile.write(framed(chunk(token(i, paragraph))))
                self.wfile.flush()
            self.wfile.write(framed(end(total)))
            return
        while sent < total:
            due = min(total, int((time.perf_counter() - start) * rate) + 1)
            if due > sent:
                self.wfile.write(b"".join(chunk(token(i, paragraph))
                                          for i in range(sent, due)))
                self.wfile.flush()
                sent = due
            time.sleep(0.01)
        self.wfile.write(end(total))


def framed(data):
    """One chunk of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def token(i, paragraph):
    if paragraph < 0:
        # One fenced code block, `-paragraph` tokens a line.
        start = "```rust\n" if i == 0 else ""
        return f"{start}tok{i}" + ("\n" if (i + 1) % -paragraph == 0 else " ")
    end = paragraph and (i + 1) % paragraph == 0
    return f"tok{i}\n\n" if end else f"tok{i} "


def paced_text(total, paragraph):
    return "".join(token(i, paragraph) for i in range(total))


def config(url_a, url_b):
    return f"""
[pair]
a = "left"
b = "right"
[providers.bench_a]
kind = "openai"
base_url = "{url_a}/v1"
[providers.bench_b]
kind = "openai"
base_url = "{url_b}/v1"
[[models]]
name = "left"
provider = "bench_a"
[[models]]
name = "right"
provider = "bench_b"
"""


class Tui:
    """duel in a pseudo-terminal; records when each frame ended."""

    # Subclasses that read the screen's bytes (benches/flood.py) keep them all.
    keep_raw = False

    def __init__(self, cmd, env):
        self.raw = bytearray()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, env=env, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, close_fds=True,
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.master = master
        self.frames = []
        self.lock = threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        tail = b""
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            now = time.perf_counter()
            buf = tail + data
            count = buf.count(FRAME_END)
            with self.lock:
                self.frames.extend([now] * count)
                if self.keep_raw:
                    self.raw.extend(data)
            tail = buf[-(len(FRAME_END) - 1):]

    def frame_count(self):
        with self.lock:
            return len(self.frames)

    def wait_frames(self, n, timeout=30):
        deadline = time.perf_counter() + timeout
        while self.frame_count() < n:
            if time.perf_counter() > deadline:
                sys.exit(f"no frame {n} within {timeout} s")
            time.sleep(0.001)
        with self.lock:
            return self.frames[n - 1]

    def send(self, data):
        os.write(self.master, data)

    def cpu_by_thread(self):
        """CPU time of each thread of duel by its name, to the nanosecond (the
        scheduler's own account: `/proc/PID/stat` counts in clock ticks, too coarse
        for a process that uses 1 % of a core)."""
        times = {}
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{task}/comm") as f:
                    name = f.read().strip()
                with open(f"/proc/{self.proc.pid}/task/{task}/schedstat") as f:
                    times[name] = times.get(name, 0) + int(f.read().split()[0]) / 1e9
            except OSError:
                continue
        return times

    def cpu_secs(self):
        return sum(self.cpu_by_thread().values())

    def context_switches(self):
        """Voluntary and involuntary, summed over every thread of duel."""
        total = 0
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{task}/status") as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches:",
                                            "nonvoluntary_ctxt_switches:")):
                            total += int(line.split()[1])
            except OSError:
                continue
        return total

    def memory(self, field):
        """VmRSS or VmHWM in MB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def quit(self):
        self.send(b"\x11")  # Ctrl+Q
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


def saved_answers(data_dir, timeout):
    """The two answers of the first turn, once the conversation says both ended."""
    folder = os.path.join(data_dir, "conversations")
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            try:
                with open(os.path.join(folder, name)) as f:
                    turn = json.load(f)["turns"][0]
            except (OSError, ValueError, KeyError, IndexError):
                continue
            if turn["a"]["finish"] != "cancelled" and turn["b"]["finish"] != "cancelled":
                return turn["a"], turn["b"]
        time.sleep(0.02)
    sys.exit("the answers never ended")


def session(opts, tmp, name, url_a, url_b, cls=None):
    home = os.path.join(tmp, name)
    os.makedirs(home)
    path = os.path.join(home, "config.toml")
    with open(path, "w") as f:
        f.write(config(url_a, url_b))
    env = dict(os.environ, DUEL_DATA_DIR=os.path.join(home, "data"), TERM="xterm-256color",
               XDG_CONFIG_HOME=os.path.join(home, "xdg"), HOME=home)
    env.pop("DUEL_LOG", None)
    env.pop("NO_COLOR", None)
    return (cls or Tui)([opts.duel, "--config", path], env), env["DUEL_DATA_DIR"]


def start_up(opts, tmp):
    version, first = [], []
    for i in range(opts.runs):
        t = time.perf_counter()
        subprocess.run([opts.duel, "--version"], stdout=subprocess.DEVNULL, check=True)
        version.append(time.perf_counter() - t)
        tui, _ = session(opts, tmp, f"start{i}", "http://127.0.0.1:9", "http://127.0.0.1:9")
        first.append(tui.wait_frames(1) - tui.started)
        if i == opts.runs - 1:
            time.sleep(1)
            idle_rss = tui.memory("VmRSS")
        tui.quit()
    v, f = statistics.median(version), statistics.median(first)
    print(f"start-up, median of {opts.runs}")
    print(f"  duel --version, start to exit (baseline) {v * 1000:7.1f} ms  1.00x")
    print(f"  duel, start to first frame drawn        {f * 1000:7.1f} ms  {f / v:.2f}x")
    print(f"  RSS idle after the first frame          {idle_rss:7.1f} MB")


def idle(opts, tmp):
    """duel with nothing to do, for as long as a load lasts: the baseline."""
    tui, _ = session(opts, tmp, "idle", "http://127.0.0.1:9", "http://127.0.0.1:9")
    tui.wait_frames(1)
    time.sleep(0.3)
    cpu0, switches0, frames0, t0 = (tui.cpu_secs(), tui.context_switches(),
                                    tui.frame_count(), time.perf_counter())
    time.sleep(opts.secs)
    wall = time.perf_counter() - t0
    cpu = tui.cpu_secs() - cpu0
    switches = tui.context_switches() - switches0
    frames = tui.frame_count() - frames0
    tui.quit()
    print(f"idle for {opts.secs} s (baseline)")
    print(f"  duel TUI               CPU {100 * cpu / wall:5.1f} % of one core, "
          f"{frames / wall:5.1f} frames/s, {switches / wall:6.0f} context switches/s")


def load(opts, tmp, url, paragraph, rate):
    paced = f"{url}/paced/{rate}/{opts.secs}/{paragraph}/{opts.writes}"
    total = int(rate * opts.secs)
    # Baseline: two curl -N reading the same streams.
    body = json.dumps({"model": "bench", "stream": True, "messages": []})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    curls = [subprocess.Popen(["curl", "-sN", "-X", "POST", "-H",
                               "content-type: application/json", "-d", body,
                               f"{paced}/v1/chat/completions"], stdout=subprocess.DEVNULL)
             for _ in range(2)]
    for c in curls:
        c.wait()
    curl_wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    curl_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    tui, data_dir = session(opts, tmp, f"load{paragraph}-{rate}", paced, paced)
    tui.wait_frames(1)
    time.sleep(0.3)
    threads0, switches0, frames0, t0 = (tui.cpu_by_thread(), tui.context_switches(),
                                        tui.frame_count(), time.perf_counter())
    tui.send(b"go\r")
    a, b = saved_answers(data_dir, opts.secs * 3 + 30)
    wall = time.perf_counter() - t0
    threads = tui.cpu_by_thread()
    # A thread that ended meanwhile took its time with it (a blocking save's thread
    # lives 10 s after its last job, longer than the time between two saves here).
    by_thread = {name: secs - threads0.get(name, 0) for name, secs in threads.items()}
    cpu = sum(by_thread.values())
    switches = tui.context_switches() - switches0
    frames = tui.frame_count() - frames0
    peak = tui.memory("VmHWM")
    tui.quit()
    expected = paced_text(total, paragraph)
    lost = [side for side, rec in (("A", a), ("B", b)) if rec["answer"] != expected]
    shape = (f"paragraphs of {paragraph} tokens" if paragraph > 0
             else f"one code block, lines of {-paragraph} tokens" if paragraph < 0
             else "one paragraph")
    print(f"load: 2 panes x {rate} tokens/s for {opts.secs} s "
          f"({total} tokens each, {shape}, {opts.writes} writes)")
    print(f"  curl -N x2 (baseline)  CPU {100 * curl_cpu / curl_wall:5.1f} % of one core")
    print(f"  duel TUI               CPU {100 * cpu / wall:5.1f} % of one core  "
          f"({cpu / curl_cpu:.1f}x curl), {frames / wall:5.1f} frames/s, "
          f"{switches / wall:6.0f} context switches/s, "
          f"peak RSS {peak:.1f} MB, {cpu / (2 * total) * 1e6:.2f} us CPU per token")
    print("  by thread: " + ", ".join(
        f"{name} {100 * secs / wall:.2f} %"
        for name, secs in sorted(by_thread.items(), key=lambda kv: -kv[1]) if secs > 0))
    print(f"  text lost: {'none' if not lost else 'pane ' + ', '.join(lost)}")
    if lost:
        sys.exit(1)


def keystrokes(opts, tmp, url, size, name):
    bulk = f"{url}/bulk/{size}"
    tui, data_dir = session(opts, tmp, name, bulk, bulk)
    tui.wait_frames(1)
    tui.send(b"go\r")
    saved_answers(data_dir, 120)
    time.sleep(0.5)
    latencies = []
    for i in range(opts.keys):
        n = tui.frame_count()
        t = time.perf_counter()
        tui.send(b"\x1b[5~" if i % 2 == 0 else b"\x1b[6~")  # Page Up / Page Down
        latencies.append(tui.wait_frames(n + 1) - t)
        time.sleep(0.05)
    rss = tui.memory("VmRSS")
    tui.quit()
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1], rss


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--secs", type=float, default=20)
    args.add_argument("--rate", type=int, default=1000)
    args.add_argument("--rates", default=None,
                      help="comma-separated rates for the loads (default: --rate)")
    args.add_argument("--writes", choices=["batched", "token"], default="batched")
    args.add_argument("--runs", type=int, default=10)
    args.add_argument("--keys", type=int, default=40)
    args.add_argument("--only", choices=["all", "load", "keys"], default="all")
    args.add_argument("--duel", default=os.path.join(ROOT, "target", "release", "duel"))
    opts = args.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        if opts.only in ("all", "keys"):
            if opts.only == "all":
                start_up(opts, tmp)
            small = keystrokes(opts, tmp, url, 10_000, "keys-10k")
            large = keystrokes(opts, tmp, url, 1_000_000, "keys-1m")
            print(f"keystroke to frame (Page Up/Down), median and p95 of {opts.keys}")
            print(f"  2 x 10 KB answers (baseline)  {small[0] * 1000:6.2f} ms  "
                  f"p95 {small[1] * 1000:6.2f} ms  1.00x  RSS {small[2]:.1f} MB")
            print(f"  2 x 1 MB answers              {large[0] * 1000:6.2f} ms  "
                  f"p95 {large[1] * 1000:6.2f} ms  {large[0] / small[0]:.2f}x  "
                  f"RSS {large[2]:.1f} MB")
        if opts.only in ("all", "load"):
            idle(opts, tmp)
            rates = [int(r) for r in opts.rates.split(",")] if opts.rates else [opts.rate]
            for rate in rates:
                load(opts, tmp, url, 60, rate)
            load(opts, tmp, url, 0, rates[-1])
            load(opts, tmp, url, -8, rates[-1])
    server.shutdown()


if __name__ == "__main__":
    main()
