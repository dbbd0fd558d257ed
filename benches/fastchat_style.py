#!/usr/bin/env python3
"""duel stats --style-control against FastChat's own style-control fit.

Makes a vote log (or takes one with --log), runs `duel export --format arena` and
`duel stats --style-control --json` on it, runs FastChat's `compute_style_control` and
`compute_bootstrap_style_control` (fastchat/serve/monitor/rating_systems.py) on the
export, aligns the two sets of ratings on their means and prints the largest
difference. Exits 1 when it is a rating point or more.

FastChat's style control is newer than the last fschat release on PyPI (0.2.36 has no
rating_systems.py), so the script needs FastChat's source: --fastchat names a checkout
of lm-sys/FastChat (or the rating_systems.py file itself). Only that one module is
loaded, by path, so nothing of FastChat's model code (torch and the like) is imported.
Its few dependencies (numpy, pandas, scipy, tqdm) go into a virtualenv in a temporary
folder, or the one --venv names (kept, for reruns).

    python3 benches/fastchat_style.py --fastchat ~/src/FastChat
    python3 benches/fastchat_style.py --fastchat FastChat --log votes.jsonl --bootstrap 200

`cargo test` never runs this.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ["length", "headers", "lists", "bold"]
MODELS = {
    # name: (strength in rating points, typical tokens, headers, list items, bold)
    "qwen-plus": (1060, 700, 3, 8, 6),
    "ernie-4.5": (1040, 250, 0, 2, 1),
    "deepseek-chat": (1030, 550, 2, 6, 4),
    "glm-4": (1000, 400, 1, 4, 2),
    "kimi-k2": (990, 900, 4, 10, 8),
    "doubao-pro": (960, 300, 0, 1, 0),
}
# The simulated judges' taste: log odds per unit of (a - b) / (a + b + 1).
TASTE = {"length": 1.0, "headers": 0.3, "lists": 0.2, "bold": 0.0}


def answer(rng, model):
    """An answer with the model's habits: some prose, headers, list items, bold."""
    _, tokens, headers, lists, bold = MODELS[model]
    n_tokens = max(5, int(tokens * rng.uniform(0.3, 1.7)))
    h = rng.randint(0, 2 * headers)
    li = rng.randint(0, 2 * lists)
    b = rng.randint(0, 2 * bold)
    lines = [f"{'#' * rng.randint(1, 3)} Part {i}" for i in range(h)]
    lines += [f"- point {i}" if i % 2 else f"{i + 1}. step" for i in range(li)]
    lines += [f"Some **key idea {i}** here." for i in range(b)]
    lines.append("word " * max(1, n_tokens // 4))
    if rng.random() < 0.2:
        # A code block: its insides never count.
        lines.append("```python\n# not a header\n- not an item\n```")
    counts = {"tokens": n_tokens, "headers": h, "lists": li, "bold": b}
    return "\n".join(lines), counts


def synthetic_log(path, votes, seed):
    rng = random.Random(seed)
    names = list(MODELS)
    with open(path, "w") as out:
        for n in range(votes):
            a, b = rng.sample(names, 2)
            text_a, ca = answer(rng, a)
            text_b, cb = answer(rng, b)
            logit = (MODELS[a][0] - MODELS[b][0]) / 400 * 2.302585092994046
            for key, feature in [("tokens", "length"), ("headers", "headers"),
                                 ("lists", "lists"), ("bold", "bold")]:
                logit += TASTE[feature] * (ca[key] - cb[key]) / (ca[key] + cb[key] + 1)
            p = 1 / (1 + pow(2.718281828459045, -logit))
            roll = rng.random()
            if roll < 0.08:
                vote = "tie"
            elif roll < 0.12:
                vote = "both_bad"
            else:
                vote = "a" if rng.random() < p else "b"

            def side(model, text, counts):
                # Every tenth answer without a reported count: duel estimates it.
                tokens = None if rng.random() < 0.1 else counts["tokens"]
                return {
                    "model": model, "provider": "p", "model_id": model,
                    "history": [], "answer": text, "reasoning": None,
                    "finish": "stop", "error": None, "ttft_ms": 300,
                    "total_ms": 4000, "input_tokens": 20, "output_tokens": tokens,
                }

            record = {
                "schema": 1, "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "time": "2026-11-23T18:53:46.123Z",
                "conversation": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "turn": 1, "vote": vote, "blind": rng.random() < 0.5,
                "judge": "alice", "prompt": f"question {n}",
                "a": side(a, text_a, ca), "b": side(b, text_b, cb),
            }
            out.write(json.dumps(record) + "\n")


def duel_binary(given):
    if given:
        return given
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return str(ROOT / "target" / "release" / "duel")


def duel(binary, data_dir, *args):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(data_dir.parent),
        "DUEL_DATA_DIR": str(data_dir),
        "XDG_CONFIG_HOME": str(data_dir.parent / "xdg"),
    }
    done = subprocess.run([binary, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"duel {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def rating_systems_file(fastchat):
    path = Path(fastchat).expanduser()
    if path.is_dir():
        path = path / "fastchat" / "serve" / "monitor" / "rating_systems.py"
    if not path.is_file():
        sys.exit(f"no FastChat rating_systems.py at {path}: --fastchat names a checkout "
                 "of lm-sys/FastChat (fschat 0.2.36 on PyPI predates style control)")
    return path


def python_with_deps(venv):
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "numpy", "pandas",
                    "scipy", "tqdm"], check=True)
    return python


# Runs inside the virtualenv: FastChat's functions on the arena export.
FASTCHAT_SIDE = r"""
import importlib.util, json, sys
import numpy as np, pandas as pd
spec = importlib.util.spec_from_file_location("rating_systems", sys.argv[1])
rs = importlib.util.module_from_spec(spec)
sys.modules["rating_systems"] = rs  # so the bootstrap's worker processes find it
spec.loader.exec_module(rs)
df = pd.DataFrame(json.load(open(sys.argv[2])))
rounds = int(sys.argv[3])
# A feature that never differs between the sides makes FastChat divide by a zero
# standard deviation (its fit then fails); duel leaves such a feature out, so do the
# same here: FastChat's own preprocessing on the features that vary.
elements = rs.STYLE_CONTROL_ELEMENTS_V1
k = len(elements) // 2
def total(meta, key):
    v = meta[key]
    return v if isinstance(v, int) else sum(v.values())
varies = []
for i in range(k):
    d = [(total(m, elements[i]) - total(m, elements[i + k]))
         / (total(m, elements[i]) + total(m, elements[i + k]) + 1) for m in df.conv_metadata]
    varies.append(len(set(d)) > 1)
kept = [e for i, e in enumerate(elements[:k]) if varies[i]]
kept = kept + [e for i, e in enumerate(elements[k:]) if varies[i]]
original = rs.preprocess_for_style
rs.preprocess_for_style = lambda df: original(
    df, apply_ratio=[1] * len(kept[: len(kept) // 2]), style_elements=kept)
def full(params):
    it = iter(params)
    return [float(next(it)) if v else None for v in varies]
ratings, params = rs.compute_style_control(df)
np.random.seed(0)
boot, boot_params = rs.compute_bootstrap_style_control(df, num_round=rounds, num_cpu=2)
json.dump({
    "ratings": {m: float(r) for m, r in ratings.items()},
    "coefficients": full(params),
    "ci_low": {m: float(boot[m].quantile(0.025)) for m in boot.columns},
    "ci_high": {m: float(boot[m].quantile(0.975)) for m in boot.columns},
    "coef_low": full(np.quantile(boot_params, 0.025, axis=0)),
    "coef_high": full(np.quantile(boot_params, 0.975, axis=0)),
}, sys.stdout)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fastchat", required=True,
                        help="a checkout of lm-sys/FastChat, or its rating_systems.py")
    parser.add_argument("--log", help="a vote log (default: a synthetic one)")
    parser.add_argument("--votes", type=int, default=3000,
                        help="votes in the synthetic log (default 3000)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--bootstrap", type=int, default=100,
                        help="bootstrap rounds on both sides (default 100)")
    parser.add_argument("--duel", help="the duel binary (default: a release build)")
    parser.add_argument("--venv", help="a virtualenv folder to make or reuse")
    args = parser.parse_args()

    source = rating_systems_file(args.fastchat)
    binary = duel_binary(args.duel)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "home" / "data"
        data.mkdir(parents=True)
        log = data / "votes.jsonl"
        if args.log:
            log.write_bytes(Path(args.log).read_bytes())
        else:
            synthetic_log(log, args.votes, args.seed)
        arena = tmp / "arena.json"
        duel(binary, data, "export", "--format", "arena", "--out", str(arena))
        battles = len(json.loads(arena.read_text()))
        ours = json.loads(duel(binary, data, "stats", "--style-control", "--json",
                               "--bootstrap", str(args.bootstrap)))["style_control"]
        python = python_with_deps(Path(args.venv) if args.venv else tmp / "venv")
        done = subprocess.run([str(python), "-c", FASTCHAT_SIDE, str(source), str(arena),
                               str(args.bootstrap)], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"FastChat's fit failed:\n{done.stderr}")
        theirs = json.loads(done.stdout)

    ours_r = {m["model"]: m for m in ours["models"]}
    common = sorted(set(ours_r) & set(theirs["ratings"]))
    mean_ours = sum(ours_r[m]["rating"] for m in common) / len(common)
    mean_theirs = sum(theirs["ratings"][m] for m in common) / len(common)
    print(f"{'model':<16}{'duel':>10}{'FastChat':>10}{'diff':>9}"
          f"{'duel 95% CI':>22}{'FastChat 95% CI':>22}")
    worst = 0.0
    for m in sorted(common, key=lambda m: -ours_r[m]["rating"]):
        d = ours_r[m]["rating"] - mean_ours
        f = theirs["ratings"][m] - mean_theirs
        worst = max(worst, abs(d - f))
        ci_d = f"{ours_r[m]['ci_low']:.1f}–{ours_r[m]['ci_high']:.1f}"
        ci_f = f"{theirs['ci_low'][m]:.1f}–{theirs['ci_high'][m]:.1f}"
        print(f"{m:<16}{d + 1000:>10.3f}{f + 1000:>10.3f}{d - f:>+9.4f}{ci_d:>22}{ci_f:>22}")
    print()
    print(f"{'feature':<16}{'duel':>10}{'FastChat':>10}{'diff':>9}"
          f"{'duel 95% CI':>22}{'FastChat 95% CI':>22}")
    worst_coef = 0.0
    for k, c in enumerate(ours["coefficients"]):
        f = theirs["coefficients"][k]
        if c["value"] is None or f is None:
            print(f"{c['feature']:<16}{'left out' if c['value'] is None else '':>10}"
                  f"{'left out' if f is None else '':>10}")
            if (c["value"] is None) != (f is None):
                worst_coef = float("inf")
            continue
        worst_coef = max(worst_coef, abs(c["value"] - f))
        ci_d = f"{c['ci_low']:+.3f}–{c['ci_high']:+.3f}"
        ci_f = f"{theirs['coef_low'][k]:+.3f}–{theirs['coef_high'][k]:+.3f}"
        print(f"{c['feature']:<16}{c['value']:>10.4f}{f:>10.4f}{c['value'] - f:>+9.5f}"
              f"{ci_d:>22}{ci_f:>22}")
    print()
    print(f"{len(common)} models, {args.bootstrap} bootstrap rounds each side, "
          f"{battles} battles")
    print(f"largest rating difference after aligning the means: {worst:.4f} points")
    print(f"largest coefficient difference: {worst_coef:.5f}")
    sys.exit(0 if worst < 1.0 else 1)


if __name__ == "__main__":
    main()
