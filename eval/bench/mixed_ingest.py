"""Benchmark: ingesting a mixed folder (PDFs with images, Word files, images with and without
text, Markdown) with the default settings, OCR included.

    python -m eval.bench.mixed_ingest [--pdfs 20] [--images 40] [--texts 60] [--clip base]

Prints files/s, chunks/s and images/s for the whole run, and the same with OCR off, so the
cost of reading text in images is visible."""

from __future__ import annotations

import argparse
import io
import os
import random
import tempfile
import time
from pathlib import Path

from .corpus import WORDS, sentence


def make_folder(root: Path, pdfs: int, images: int, texts: int, seed: int = 0) -> None:
    import docx
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.backends.backend_pdf import PdfPages
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    root.mkdir(parents=True)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 26) \
        if Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists() \
        else ImageFont.load_default(26)
    matplotlib.rcParams["pdf.fonttype"] = 42
    for i in range(pdfs):
        with PdfPages(root / f"report{i:03d}.pdf") as pdf:
            for page in range(3):
                fig = plt.figure(figsize=(8.27, 11.69))
                for line in range(25):
                    fig.text(0.08, 0.95 - line * 0.035, sentence(rng)[:90], fontsize=9)
                if page == 1:
                    pixels = np.asarray(Image.effect_noise((160, 120), 50 + i).convert("RGB"))
                    fig.figimage(pixels, 80, 80)
                pdf.savefig(fig)
                plt.close(fig)
    for i in range(images):
        im = Image.new("RGB", (800, 500), rng.choice(["white", "lightyellow", "lightblue"]))
        d = ImageDraw.Draw(im)
        if i % 2 == 0:  # half of them carry text, like screenshots and slides
            for line in range(5):
                d.text((30, 30 + 60 * line), sentence(rng)[:48], fill="black", font=font)
        else:
            for _ in range(15):
                x, y = rng.randrange(800), rng.randrange(500)
                d.ellipse([x, y, x + 80, y + 80], fill=rng.choice(["red", "green", "navy"]))
        im.save(root / f"image{i:03d}.{'png' if i % 3 else 'jpg'}")
    for i in range(texts):
        body = "\n\n".join(" ".join(sentence(rng) for _ in range(5)) for _ in range(6))
        (root / f"note{i:03d}.md").write_text(f"# Note {i}\n\n{body}")
    for i in range(max(1, texts // 10)):
        memo = docx.Document()
        memo.add_heading(f"Memo {i}", 1)
        for _ in range(8):
            memo.add_paragraph(" ".join(rng.choice(WORDS) for _ in range(40)))
        buf = io.BytesIO()
        memo.save(buf)
        (root / f"memo{i:03d}.docx").write_bytes(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pdfs", type=int, default=20)
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--texts", type=int, default=60)
    ap.add_argument("--clip", default="base", help="'base', 'tiny' or a model path")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    from ingest.pipeline import Ingestor, walk
    from rag.sections import IngestSettings
    from rag.service import RagService
    from rag.settings import Settings
    from rag.testing.models import build_random_clip

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    work = Path(tempfile.mkdtemp(prefix="mmrag-mixed-"))
    clip = args.clip
    if clip in ("base", "tiny"):
        clip = str(build_random_clip(work / "clip", size=clip))
    folder = work / "mixed"
    make_folder(folder, args.pdfs, args.images, args.texts)
    sources = list(walk([folder]))
    print(f"machine: {os.cpu_count()} cores; folder: {args.pdfs} PDFs (3 pages, 1 image), "
          f"{args.images} images (half with text), {args.texts} Markdown, "
          f"{max(1, args.texts // 10)} DOCX = {len(sources)} files; CLIP {args.clip}")
    for ocr in ("auto", "off"):
        svc = RagService.from_settings(Settings(
            data_dir=work / f"data-{ocr}", clip_model=clip, device="cpu",
            ingest=IngestSettings(ocr=ocr), _env_file=None))
        svc.warm_up()
        ingestor = Ingestor(svc)
        t0 = time.perf_counter()
        report = ingestor.ingest(sources)
        s = time.perf_counter() - t0
        print(f"OCR {'on ' if ocr == 'auto' else 'off'}: {len(sources) / s:6.2f} files/s, "
              f"{report.chunks / s:7.1f} chunks/s, {report.images / s:6.2f} images/s "
              f"({report.chunks} chunks, {report.images} images, {s:.1f} s, "
              f"{len(report.problems)} problems)")


if __name__ == "__main__":
    main()
