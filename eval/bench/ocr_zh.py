"""Benchmark: how well mmrag's OCR (RapidOCR, as ingestion runs it) reads Chinese.

    python -m eval.bench.ocr_zh [--corpus eval/datasets/corpus/debian-reference-zh] [--n 40]

Takes ``--n`` sentences of real Chinese prose (the Debian Reference in Simplified Chinese, the
debian-reference-zh dataset's corpus: build it with eval/datasets/build_debian_reference_zh.py),
many with English commands and paths in them, and renders each group of three as a picture
the way a screenshot shows text: dark on light, 18-26 px, Noto Sans CJK (Debian's
``fonts-noto-cjk``). Each picture goes through ``ingest.ocr.RapidOcr.read``; prints the
character error rate against the rendered text (spaces ignored: Chinese has none), the share
of pictures read exactly, the time per picture, and the worst lines."""

from __future__ import annotations

import argparse
import html
import random
import re
import time
from pathlib import Path

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
HAN = re.compile(r"[\u4e00-\u9fff]")


def sentences(corpus: Path, n: int) -> list[str]:
    found: list[str] = []
    for page in sorted(corpus.glob("*.html")):
        text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
        for s in re.split(r"(?<=[。！？])", " ".join(text.split())):
            s = s.strip()
            if 12 <= len(s) <= 38 and len(HAN.findall(s)) >= 8:
                found.append(s)
    random.Random(0).shuffle(found)
    return found[:n]


def render(lines: list[str], size: int):  # -> PIL.Image
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), size)
    width = max(int(font.getlength(t)) for t in lines) + 2 * size
    im = Image.new("RGB", (width, (len(lines) + 1) * int(size * 1.6)), (246, 246, 244))
    draw = ImageDraw.Draw(im)
    for i, t in enumerate(lines):
        draw.text((size, int(size * 0.8) + i * int(size * 1.6)), t, font=font,
                  fill=(30, 30, 36))
    return im


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path,
                    default=Path("eval/datasets/corpus/debian-reference-zh"))
    ap.add_argument("--n", type=int, default=60)
    args = ap.parse_args()
    from eval.metrics import cer
    from ingest.ocr import RapidOcr

    if not FONT.exists():
        raise SystemExit(f"{FONT} is missing: apt-get install fonts-noto-cjk")
    picked = sentences(args.corpus, args.n)
    if not picked:
        raise SystemExit(f"no Chinese sentences under {args.corpus}: build the dataset first")
    ocr = RapidOcr()
    ocr.read(render(["预热"], 22))  # the engine loads once
    rates, exact, took, worst = [], 0, [], []
    rng = random.Random(1)
    for k in range(0, len(picked), 3):
        lines = picked[k:k + 3]
        im = render(lines, rng.choice([18, 20, 22, 24, 26]))
        t0 = time.perf_counter()
        got = ocr.read(im).text
        took.append(time.perf_counter() - t0)
        truth = "".join("".join(lines).split())
        read = "".join(got.split())
        rate = cer(read, truth)
        rates.append(rate)
        exact += read == truth
        worst.append((rate, truth, read))
    print(f"{len(rates)} pictures of {len(picked)} sentences: CER {sum(rates) / len(rates):.3f}"
          f" (median {sorted(rates)[len(rates) // 2]:.3f}), read exactly {exact} of "
          f"{len(rates)}, {1000 * sum(took) / len(took):.0f} ms a picture")
    for rate, truth, read in sorted(worst, reverse=True)[:3]:
        print(f"  CER {rate:.2f}\n    true: {truth}\n    read: {read}")


if __name__ == "__main__":
    main()
