#!/usr/bin/env python3
"""Writes examples/votes.jsonl: a synthetic vote log for trying `duel stats` on.

    python3 examples/make_votes.py > examples/votes.jsonl

Four models, Chinese and English prompts, coding / writing / reasoning items. The
votes follow known rules, so the figures have something to show:
- strengths (logit): deepseek-chat 0.35, qwen-plus 0.30, ernie-4.5 0.10, glm-4 0.0;
- qwen-plus is +0.6 on Chinese prompts, ernie-4.5 +0.4 on Chinese and -0.5 on code,
  deepseek-chat +0.5 on code;
- qwen-plus writes long answers with lists and bold, ernie-4.5 short plain ones, and
  the voters like length: +0.8 per normalised length difference, +0.3 for bold.
So qwen-plus looks stronger than it is until style is held equal. Seeded: the same
file every time.
"""

import json
import math
import random
import uuid

rng = random.Random(14)
MODELS = {
    "qwen-plus": {"provider": "dashscope", "base": 0.30, "chinese": 0.6, "code": 0.0, "tokens": 620, "lists": 5, "bold": 3, "headers": 2},
    "ernie-4.5": {"provider": "qianfan", "base": 0.10, "chinese": 0.4, "code": -0.5, "tokens": 240, "lists": 0, "bold": 0, "headers": 0},
    "deepseek-chat": {"provider": "deepseek", "base": 0.35, "chinese": 0.0, "code": 0.5, "tokens": 420, "lists": 2, "bold": 1, "headers": 1},
    "glm-4": {"provider": "zhipu", "base": 0.0, "chinese": 0.1, "code": 0.0, "tokens": 380, "lists": 2, "bold": 1, "headers": 0},
}
PROMPTS = {
    ("chinese", "writing"): ["用三句话介绍{}的历史。", "给{}写一段旅游宣传语。", "把这段话改写得更正式：{}明天见。"],
    ("chinese", "reasoning"): ["{}个苹果平均分给3个人，每人几个？", "如果今天是星期{}，100天后是星期几？"],
    ("english", "coding"): ["Write a Python function that {}.", "Why does this Rust code fail to compile: {}?", "Explain the time complexity of {}."],
    ("english", "writing"): ["Write a short product description for {}.", "Summarise the plot of {} in three sentences."],
    ("english", "reasoning"): ["A train leaves at {} and arrives at 17:10. How long is the trip?"],
}
FILLERS = {
    ("chinese", "writing"): ["杭州", "西安", "成都", "苏州"],
    ("chinese", "reasoning"): ["12", "一", "三", "五"],
    ("english", "coding"): ["merges two sorted lists", "parses a date", "let x = &mut v; v.push(1); x", "binary search"],
    ("english", "writing"): ["a travel kettle", "Journey to the West", "a standing desk"],
    ("english", "reasoning"): ["14:35", "13:50", "09:05"],
}


def around(mean):
    """A count near `mean`: answers of one model differ from each other too."""
    return max(0, round(rng.gauss(mean, 1.0 + mean / 3)))


def answer(model, markdown):
    headers, lists, bold = markdown
    parts = [f"## Part {i + 1}" for i in range(headers)]
    parts.append("An answer.")
    parts += [f"- point {i + 1}" for i in range(lists)]
    parts += [f"**note {i + 1}**" for i in range(bold)]
    return "\n".join(parts)


def strength(model, language, category):
    m = MODELS[model]
    return m["base"] + (m["chinese"] if language == "chinese" else 0.0) + (m["code"] if category == "coding" else 0.0)


def norm_diff(a, b):
    return (a - b) / (a + b) if a + b else 0.0


def side(model, tokens, markdown):
    m = MODELS[model]
    return {"model": model, "provider": m["provider"], "model_id": model,
            "answer": answer(model, markdown), "reasoning": None, "finish": "stop", "error": None,
            "ttft_ms": rng.randint(200, 900), "total_ms": rng.randint(2000, 9000),
            "input_tokens": 30, "output_tokens": tokens}


def main():
    names = list(MODELS)
    for n in range(480):
        a, b = rng.sample(names, 2)
        (language, category), templates = rng.choice(list(PROMPTS.items()))
        prompt = rng.choice(templates).format(rng.choice(FILLERS[(language, category)]))
        ta = int(MODELS[a]["tokens"] * rng.uniform(0.4, 1.6))
        tb = int(MODELS[b]["tokens"] * rng.uniform(0.4, 1.6))
        ma = tuple(around(MODELS[a][k]) for k in ("headers", "lists", "bold"))
        mb = tuple(around(MODELS[b][k]) for k in ("headers", "lists", "bold"))
        logit = (strength(a, language, category) - strength(b, language, category)
                 + 0.8 * norm_diff(ta, tb)
                 + 0.3 * norm_diff(ma[2], mb[2]))
        u = rng.random()
        if u < 0.1:
            vote = "tie"
        elif u < 0.1 + 0.9 / (1 + math.exp(-logit)):
            vote = "a"
        else:
            vote = "b"
        record = {
            "schema": 1, "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "time": f"2026-11-{1 + n // 40:02d}T{8 + n % 12:02d}:{n % 60:02d}:00.000Z",
            "conversation": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "turn": 1, "attempt": 1, "vote": vote, "blind": True,
            "judge": rng.choice(["alice", "bob", "chen"]), "prompt": prompt,
            "a": side(a, ta, ma), "b": side(b, tb, mb),
        }
        if n % 2 == 0:
            record["run"] = "example-20261120-090000"
            record["item"] = f"q{n // 2}"
            record["category"] = category
        print(json.dumps(record, ensure_ascii=False, separators=(",", ":")))


if __name__ == "__main__":
    main()
