#!/usr/bin/env python3
"""`duel stats` on 1,000,000 votes before and after telling each distinct prompt's
language once (issue 25's measurement found `whatlang` was 77 % of the time):

    cargo build --release && python3 benches/language.py --baseline OLD_DUEL

Two logs of the same shape as `benches/store.py`'s: every vote's prompt different (the
worst case for remembering), and each prompt voted on 12 times (a suite's item judged
by 2 people and 2 model judges on 3 model pairs). `duel stats --json` once each, with
the baseline binary and with this build, in the same run.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True, help="a duel binary to compare with")
    parser.add_argument("--votes", type=int, default=1_000_000)
    opts = parser.parse_args()
    work = tempfile.mkdtemp(prefix="duel-language-bench-")
    for label, prompts in [("every prompt different", opts.votes),
                           ("12 votes per prompt", opts.votes // 12)]:
        data = os.path.join(work, "data")
        os.makedirs(data, exist_ok=True)
        store.write_votes(os.path.join(data, "votes.jsonl"), opts.votes, prompts=prompts)
        env = {"PATH": os.environ["PATH"], "HOME": work, "DUEL_DATA_DIR": data}
        times = {}
        outputs = {}
        for name, binary in [("before", opts.baseline), ("after", store.BINARY)]:
            start = time.perf_counter()
            out = subprocess.run([binary, "stats", "--json"], env=env, capture_output=True)
            times[name] = time.perf_counter() - start
            if out.returncode != 0:
                sys.exit(out.stderr.decode())
            outputs[name] = out.stdout
        same = outputs["before"] == outputs["after"]
        print(f"{opts.votes:,} votes, {label}: duel stats {times['before']:.2f} s before, "
              f"{times['after']:.2f} s after ({times['before'] / times['after']:.1f}x); "
              f"the same output: {same}")


if __name__ == "__main__":
    main()
