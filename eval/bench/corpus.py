"""The benchmarks' generated knowledge base: Markdown files of English-like prose over a
fixed vocabulary (``WORDS``), pictures of coloured shapes, and the metadata of padded items,
laid out as a knowledge base holds them."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = """the policy team office travel expense claim receipt manager approval budget project
customer report quarter revenue meeting schedule laptop password security network access
server database backup release product feature design review deadline contract invoice
payment supplier order delivery warehouse inventory training onboarding employee benefit
holiday leave salary payroll insurance health safety building floor room parking visitor
badge camera printer document archive folder email calendar phone support ticket incident
change request priority status update plan goal result metric analysis dashboard chart
forecast market strategy partner sales marketing campaign website launch version upgrade
migration cloud storage compute cost saving risk audit compliance regulation privacy data
quality process workflow automation tool system platform service team lead engineer analyst
""".split()
COLORS = ["red", "green", "blue", "orange", "purple", "teal", "black", "gray"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    return " ".join(words).capitalize() + "."


def make_corpus(root: Path, n_chunks_target: int, n_images: int, seed: int = 0) -> None:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    (root / "texts").mkdir(parents=True)
    (root / "images").mkdir(parents=True)
    # ~110 words per 128-token chunk with 24 overlap: a 600-word document makes ~6 chunks
    for i in range(max(1, n_chunks_target // 6)):
        paras = ["\n".join(sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(8)]
        (root / "texts" / f"doc{i:05d}.md").write_text(f"# Document {i}\n\n" + "\n\n".join(paras))
    for i in range(n_images):
        w, h = rng.choice([(640, 480), (800, 600), (512, 512), (1024, 768)])
        im = Image.new("RGB", (w, h), rng.choice(COLORS))
        d = ImageDraw.Draw(im)
        for _ in range(12):
            x, y = rng.randrange(w), rng.randrange(h)
            d.ellipse([x, y, x + rng.randint(20, 200), y + rng.randint(20, 200)],
                      fill=rng.choice(COLORS))
        im.save(root / "images" / f"img{i:04d}.{'jpg' if i % 2 else 'png'}")


def padding_meta(modality: str, n: int) -> list[dict]:
    """Padded items as a knowledge base holds them: text in documents of 20 chunks, 20
    documents to a folder; each picture its own file. (One 8,500-chunk document would be
    capped by the retriever's diversity, which then searches deeper on every question.)"""
    from rag import items

    if modality == "image":
        return [{items.SOURCE: f"padding/{i}.png", items.DOC_ID: f"padding-image-{i}",
                 items.MODALITY: modality} for i in range(n)]
    return [{items.SOURCE: f"padding/{i // 400}/{i // 20}.txt",
             items.DOC_ID: f"padding-text-{i // 20}", items.MODALITY: modality}
            for i in range(n)]
