"""A synthetic corpus in the style of the real reports: their sentences with regions, years and numbers varied.

Deterministic by seed: the same (n, seed) always writes the same files.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from bot.corpus import load_manifest, read_document, report_files

ROOT = Path(__file__).resolve().parent.parent
SYLLABLES = "青云溪山河安平阳明华兴宁远清泉川桥林松柏湖江海东西南北新长永嘉丰盛德和乐康泰"
UNITS = ("县", "区", "市")
PROVINCES = ("浙江省", "江苏省", "山东省", "广东省", "福建省", "安徽省", "湖南省", "四川省")


def _names(rng: random.Random, n: int) -> list[tuple[str, str, str]]:
    """n distinct (county, city, province) triples."""
    seen: set[str] = set()
    out = []
    while len(out) < n:
        county = rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(UNITS)
        if county in seen or county[0] == county[1]:
            continue
        seen.add(county)
        out.append((county, rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + "市", rng.choice(PROVINCES)))
    return out


def _vary_numbers(text: str, rng: random.Random) -> str:
    def change(m: re.Match[str]) -> str:
        value = m.group(0)
        if len(value) == 4 and value.startswith("20"):
            return value  # years are set separately
        return str(max(1, round(int(value) * rng.uniform(0.5, 1.8))))

    return re.sub(r"(?<![\d.])\d{1,5}(?![\d.])", change, text)


def generate(out: Path, n: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    manifest = load_manifest(ROOT / "seeds")
    templates = [read_document(p, manifest) for p in report_files([ROOT / "seeds"])]
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# synthetic reports"]
    paths = []
    for i, (county, city, province) in enumerate(_names(rng, n)):
        doc = templates[i % len(templates)]
        year = rng.choice((2020, 2021, 2022, 2023, 2024))
        text = doc.text.replace(doc.meta.county, county).replace(doc.meta.county[:-1], county[:-1])
        text = text.replace(doc.meta.city, city).replace(str(doc.meta.year), str(year))
        kept = [ln for ln in text.split("\n") if not ln or rng.random() > 0.08]
        text = _vary_numbers("\n".join(kept), rng)
        path = out / f"synth_{i:05d}.txt"
        path.write_text(f"{county}司法局{year}年法治政府建设年度报告\n{text}", encoding="utf-8")
        paths.append(path)
        lines.append(
            f'["synth_{i:05d}"]\ncounty = "{county}"\ncity = "{city}"\nprovince = "{province}"\n'
            f'year = {year}\nperiod = "{year}"\ntitle = "{county}司法局{year}年法治政府建设年度报告"'
        )
    (out / "manifest.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(len(generate(args.out, args.n, args.seed)), "reports in", args.out)
