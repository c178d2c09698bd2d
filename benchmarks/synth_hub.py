"""A synthetic Hugging Face Hub: N `/api/models` records as JSON Lines, in constant memory.

    python benchmarks/synth_hub.py N OUT.jsonl [--seed S]

Shaped like the Hub's listing, from public summaries of it (approximate, not measured here):
- license tags: about 45% of repositories declare none; among those that do, apache-2.0 leads
  (~38%), then mit (~15%), openrail and creativeml-openrail-m, the Llama and Gemma licenses,
  Creative Commons (NC and SA variants among them), GPL/AGPL, "other" with a license_name, and a
  long tail of rare and free-text strings that no alias resolves;
- lineage: about 35% of repositories name a base model, picked with a strong preference for
  early (popular) repositories, so a few bases get thousands of derivatives and chains reach
  depth 5-10 (fine-tune > quantisation > adapter > merge, merges with 2-3 bases); 60% of
  derivatives keep their base's license, the rest draw one afresh (the conflicts);
- gating: ~2% of repositories (three quarters of them automatic);
- realistic ids (owner/name from a Zipf-like owner pool, family-size-variant names), datasets,
  arXiv ids, counts and dates.

Every record is a function of its index and the seed, so nothing about earlier records is kept.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

LICENSES = [  # (tag, weight among repositories that declare a license)
    ("apache-2.0", 380),
    ("mit", 150),
    ("openrail", 55),
    ("creativeml-openrail-m", 45),
    ("cc-by-nc-4.0", 35),
    ("llama2", 25),
    ("llama3", 22),
    ("llama3.1", 18),
    ("other", 40),
    ("cc-by-4.0", 25),
    ("gemma", 15),
    ("cc-by-sa-4.0", 10),
    ("cc-by-nc-sa-4.0", 12),
    ("gpl-3.0", 8),
    ("afl-3.0", 8),
    ("bigscience-openrail-m", 8),
    ("bigscience-bloom-rail-1.0", 4),
    ("cc-by-nc-nd-4.0", 5),
    ("agpl-3.0", 3),
    ("bsd-3-clause", 3),
    ("unknown", 10),
    ("wtfpl", 2),
    ("cc0-1.0", 4),
    ("artistic-2.0", 1),
    ("llama3.2", 8),
    ("qwen", 5),
    ("deepseek", 3),
]
OTHER_NAMES = ["llama3", "qwen-research", "deepseek", "tongyi-qianwen", "nvidia-open-model", "acme"]
RELATIONS = [("finetune", 45), ("quantized", 30), ("adapter", 20), ("merge", 5)]
FAMILIES = ["llama", "mistral", "qwen", "gemma", "phi", "bert", "t5", "gpt2", "falcon", "sdxl"]
SIZES = ["0.5B", "1B", "3B", "7B", "8B", "13B", "70B", "base", "large", "small"]
VARIANTS = ["instruct", "chat", "GGUF", "AWQ", "lora", "dpo", "sft", "merged", "v2", "it"]
TASKS = ["text-generation", "text-classification", "text-to-image", "feature-extraction"]
DATASETS = [
    "tatsu-lab/alpaca",
    "HuggingFaceH4/ultrachat_200k",
    "Open-Orca/OpenOrca",
    "allenai/c4",
    "wikipedia",
    "openai/gsm8k",
]


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    total = sum(w for _, w in table)
    x = rng.random() * total
    for value, w in table:
        x -= w
        if x < 0:
            return value
    return table[-1][0]


def _rng(seed: int, i: int, salt: int = 0) -> random.Random:
    return random.Random(seed * 1_000_003 + i * 7 + salt)


def repo_id(seed: int, i: int) -> str:
    rng = _rng(seed, i, 1)
    owner = f"user{int((rng.random() ** 2) * max(1, i // 4 + 10))}"
    family, size, variant = rng.choice(FAMILIES), rng.choice(SIZES), rng.choice(VARIANTS)
    return f"{owner}/{family}-{size}-{variant}-{i}"


def bases(seed: int, i: int) -> list[tuple[int, str]]:
    rng = _rng(seed, i, 2)
    if i < 50 or rng.random() >= 0.35:
        return []
    relation = _weighted(rng, RELATIONS)
    count = rng.choice((2, 2, 3)) if relation == "merge" else 1
    # strongly prefer early repositories: a few popular bases, deep chains through them
    picks = sorted({int(i * rng.random() ** 3) for _ in range(count)})
    return [(j, relation) for j in picks]


def license_of(seed: int, i: int) -> str | None:
    rng = _rng(seed, i, 3)
    parents = bases(seed, i)
    if parents and rng.random() < 0.6:
        return license_of(seed, parents[0][0])
    if rng.random() < 0.45:
        return None
    if rng.random() < 0.01:  # a free-text string no alias resolves
        return f"custom-license-{rng.randrange(1000)}"
    return _weighted(rng, LICENSES)


def record(seed: int, i: int) -> dict:
    rng = _rng(seed, i, 4)
    rid = repo_id(seed, i)
    tags = [rng.choice(TASKS), "transformers"]
    card: dict = {}
    lic = license_of(seed, i)
    if lic:
        tags.append(f"license:{lic}")
        card["license"] = lic
        if lic == "other":
            card["license_name"] = rng.choice(OTHER_NAMES)
            card["license_link"] = "LICENSE"
    parents = bases(seed, i)
    if parents:
        card["base_model"] = [repo_id(seed, j) for j, _ in parents]
    for j, relation in parents:
        tags += [f"base_model:{repo_id(seed, j)}", f"base_model:{relation}:{repo_id(seed, j)}"]
    if rng.random() < 0.15:
        ds = rng.sample(DATASETS, rng.randint(1, 2))
        tags += [f"dataset:{d}" for d in ds]
        card["datasets"] = ds
    if rng.random() < 0.08:
        tags.append(f"arxiv:{rng.randint(1801, 2412)}.{rng.randint(1, 19999):05d}")
    gated = rng.random()
    return {
        "id": rid,
        "author": rid.split("/")[0],
        "tags": tags,
        "cardData": card or None,
        "gated": "auto" if gated < 0.015 else ("manual" if gated < 0.02 else False),
        "downloads": int(rng.paretovariate(1.2)) - 1,
        "likes": int(rng.paretovariate(1.5)) - 1,
        "createdAt": f"20{rng.randint(20, 25)}-{rng.randint(1, 12):02d}-"
        f"{rng.randint(1, 28):02d}T12:00:00.000Z",
        "pipeline_tag": tags[0],
        "library_name": "transformers",
    }


def write(n: int, out: Path, seed: int = 1) -> None:
    with out.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(record(seed, i)) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    write(args.n, args.out, args.seed)


if __name__ == "__main__":
    main(sys.argv[1:])
