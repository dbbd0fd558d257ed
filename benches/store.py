#!/usr/bin/env python3
"""`duel stats` on 1,000,000 votes: from a team's PostgreSQL store against the same
votes in the data dir's `votes.jsonl`, measured in the same run.

    cargo build --release && python3 benches/store.py [--votes 1000000] [--runs 3]

A throw-away server is started with `.ci/pg-server` (on 127.0.0.1, stopped when this
script ends). The votes are written once as a file, pushed into the store with
`duel store push` (timed: it writes 5,000 votes a statement), then `duel stats` runs
RUNS times on each: the file (a config without `[store]`) and the store (an empty
data dir, a config with `[store] url`). Reported: median wall time and peak RSS of
each, and the ratio store / file (SPEC §12 asks for at most 2); then the same for
`duel export --format arena` (the votes read and written out small: mostly reading).
`--read-only` runs only the export.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "duel")
MODELS = [
    ("qwen-plus", "dashscope"), ("ernie-4.5", "qianfan"), ("deepseek-chat", "deepseek"),
    ("kimi-k2", "moonshot"), ("glm-4.6", "zhipu"), ("gpt-4o", "openai"),
]
JUDGES = ["alice", "bob", "carol", "dana"]
VOTES = ["a", "b", "tie", "both_bad", "a", "b"]


def side(model, provider, rng):
    return {
        "model": model, "provider": provider, "model_id": model,
        "history": [{"role": "system", "content": "You are a helpful assistant."}],
        "answer": "A short answer of a few sentences, as most are. " * 4,
        "reasoning": None, "finish": "stop", "error": None,
        "ttft_ms": rng.randint(150, 900), "total_ms": rng.randint(1500, 9000),
        "input_tokens": rng.randint(20, 200), "output_tokens": rng.randint(50, 600),
    }


def write_votes(path, n, seed=7, prompts=1):
    """N votes; `prompts` distinct prompts in turn (n: every prompt its own)."""
    rng = random.Random(seed)
    with open(path, "w") as out:
        for i in range(n):
            a, b = rng.sample(MODELS, 2)
            record = {
                "schema": 1, "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "time": "2026-12-07T10:%02d:%02d.000Z" % (i // 60 % 60, i % 60),
                "conversation": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "turn": 1, "attempt": 1, "vote": rng.choice(VOTES), "blind": True,
                "judge": rng.choice(JUDGES),
                "prompt": f"Which of these two answers explains topic {i % prompts} better, and why?",
                "a": side(*a, rng), "b": side(*b, rng),
            }
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def timed(args, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{out.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, out.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--read-only", action="store_true",
                        help="only the export comparison (reading the votes), not stats")
    opts = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build first: cargo build --release")
    work = tempfile.mkdtemp(prefix="duel-store-bench-")
    server = subprocess.run(
        [os.path.join(ROOT, ".ci", "pg-server"), os.path.join(work, "cluster"), str(os.getpid())],
        capture_output=True, text=True,
    )
    if server.returncode != 0:
        sys.exit(f"no PostgreSQL server: {server.stderr}")
    found = dict(line.split("=", 1) for line in server.stdout.split())
    url, password = found["DUEL_TEST_STORE_URL"], found["DUEL_TEST_STORE_PASSWORD"]

    files_home, store_home = os.path.join(work, "files"), os.path.join(work, "store")
    os.makedirs(os.path.join(files_home, "data"))
    os.makedirs(os.path.join(store_home, "data"))
    log = os.path.join(files_home, "data", "votes.jsonl")
    start = time.perf_counter()
    write_votes(log, opts.votes)
    size = os.path.getsize(log)
    print(f"{opts.votes:,} votes, {size / 1e6:.0f} MB as JSON lines "
          f"(written in {time.perf_counter() - start:.1f} s)")

    files_config = os.path.join(files_home, "config.toml")
    open(files_config, "w").write("")
    store_config = os.path.join(store_home, "config.toml")
    open(store_config, "w").write(f'[store]\nurl = "{url}"\n')
    env = {"PATH": os.environ["PATH"], "HOME": work, "DUEL_STORE_PASSWORD": password}
    files_env = dict(env, DUEL_DATA_DIR=os.path.join(files_home, "data"))
    store_env = dict(env, DUEL_DATA_DIR=os.path.join(store_home, "data"))

    timed([BINARY, "store", "init", "--config", store_config], store_env)
    wall, cpu, _, _ = timed([BINARY, "store", "push", "--config", store_config,
                             "--data-dir", os.path.join(files_home, "data")], store_env)
    print(f"duel store push: {wall:.1f} s ({opts.votes / wall:,.0f} votes/s, {cpu:.1f} s CPU in duel)")

    # As a user runs it (1,000 bootstrap rounds), with one round, and the votes read
    # and written out as FastChat battles (reading is most of that).
    cases = [("stats", ["stats", "--json"]),
             ("stats --bootstrap 1", ["stats", "--json", "--bootstrap", "1"]),
             ("export --format arena", ["export", "--format", "arena", "--out",
                                        os.path.join(work, "battles.json")])]
    if opts.read_only:
        cases = cases[2:]
    for label, command in cases:
        results = {}
        for name, config, run_env in [("file", files_config, files_env),
                                      ("store", store_config, store_env)]:
            walls, cpus, outputs = [], [], []
            for _ in range(opts.runs):
                w, cpu, _, out = timed([BINARY] + command + ["--config", config], run_env)
                walls.append(w)
                cpus.append(cpu)
                outputs.append(out)
            results[name] = (statistics.median(walls), outputs[0])
            print(f"duel {label}, from the {name:5}: median {statistics.median(walls):.2f} s "
                  f"of {opts.runs} ({', '.join(f'{w:.2f}' for w in walls)}), "
                  f"duel's CPU {statistics.median(cpus):.2f} s")
        ratio = results["store"][0] / results["file"][0]
        same = ""
        if label.startswith("stats"):
            equal = json.loads(results["file"][1]) == json.loads(results["store"][1])
            same = f"; the same leaderboard: {equal}"
        print(f"  store / file: {ratio:.2f}x (target: at most 2x){same}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of any duel run: {peak:.0f} MB")


if __name__ == "__main__":
    main()
