"""Reading the text inside images (screenshots, slides, charts, scanned pages) with RapidOCR,
which runs offline on ONNX Runtime with the models its package ships."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.extras import installed

log = logging.getLogger(__name__)


_RUN = re.compile(r"[A-Za-z]{12,}")
# RapidOCR's recogniser reads Chinese too: a checkbox or a calendar icon in a screenshot of
# an English page comes back as a stray CJK character (口, 曲)
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f]")
_LATIN = re.compile(r"[A-Za-z]")
_CAMEL = re.compile(r"[a-z][A-Z]")
_WORD_NUMBER = re.compile(r"\b([A-Za-z][a-z]{2,})(\d+)\b")  # extension4357, Error809
_NUMBER_WORD = re.compile(r"\b(\d+)([a-z]{3,})\b")  # 24hours
MIN_PART = 4  # letters per word, on average, for a run to be split into words


def respace(text: str) -> str:
    """RapidOCR's bundled recogniser often drops the spaces between English words
    ("VPNconnectionfailed"). Long letter runs are split back into words, except ones that look
    like names (CamelCase with few parts, such as "NorthwindGuest"), and long words the
    splitter only knows in pieces ("Reparametrize" is not "Re para met rize": parts of fewer
    than four letters on average), which stay whole."""
    import wordninja

    def split(m: re.Match[str]) -> str:
        run = m.group(0)
        parts = wordninja.split(run)
        if len(parts) < 2 or (_CAMEL.search(run) and len(parts) < 4) \
                or len(run) < MIN_PART * len(parts):
            return run
        return " ".join(parts)

    text = _RUN.sub(split, text)
    return _NUMBER_WORD.sub(r"\1 \2", _WORD_NUMBER.sub(r"\1 \2", text))


# Measured on the harness's OCR cases (11 Django admin screenshots, 4 rendered signs and
# slides; docs/performance.md, "OCR"), against RapidOCR's defaults: no text-direction
# classifier (pictures of documents and screens are upright; it cost time and misread
# lines), detection at the picture's own size up to 1600 px instead of its short side scaled
# *up* to 736 px (a 400x60 strip became 5000 px wide), and boxes widened a little more (1.8
# for 1.6) so a line is read whole; then stray CJK characters are dropped (below). CER 0.114
# -> 0.095 and 0.092 -> 0.008, WER 0.232 -> 0.194 and 0.437 -> 0.067, 2-2.7x faster.
# Upscaling small pictures 1.5-2x read more words wrong (WER 0.26-0.30). One thread per ONNX
# session: ingestion runs several OCR engines at once (one per loader thread and decoder
# process) beside CLIP, and engines that each took every core fought over them. On the
# mixed-folder bench with OCR on: 1.65-1.87 -> 2.09-2.31 images/s (2.0-2.2x the code before
# the OCR work, in interleaved runs), with the same text read (CER and WER equal on the
# harness's 17 OCR cases). A lone picture reads slower this way (15.4 s against 9.2 s for
# those 17 one after another).
ENGINE = {"use_cls": False, "det_limit_type": "max", "det_limit_side_len": 1600,
          "det_unclip_ratio": 1.8, "intra_op_num_threads": 1}


@dataclass
class OcrResult:
    text: str
    confidence: float  # mean over the kept lines
    lines: int


class RapidOcr:
    """Loaded on first use. One engine per thread: ONNX sessions are thread-safe, but the
    engine's pre- and post-processing keep state."""

    def __init__(self, min_confidence: float = 0.5, max_side: int = 1600):
        self.min_confidence = min_confidence
        self.max_side = max_side
        self._local = threading.local()

    @staticmethod
    def available() -> bool:
        return installed("rapidocr_onnxruntime", "wordninja")

    def _engine(self) -> Any:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            from rapidocr_onnxruntime import RapidOCR

            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
            engine = RapidOCR(**ENGINE)
            self._local.engine = engine
        return engine

    def read(self, image: Any) -> OcrResult:
        """``image``: an RGB PIL image. Lines come top to bottom, left to right."""
        if max(image.size) > self.max_side:
            image = image.copy()
            image.thumbnail((self.max_side, self.max_side))
        bgr = np.asarray(image)[:, :, ::-1].copy()
        result, _ = self._engine()(bgr)
        if not result:
            return OcrResult("", 0.0, 0)
        kept = [(box, text, float(score)) for box, text, score in result
                if float(score) >= self.min_confidence and text.strip()]
        if not kept:
            return OcrResult("", 0.0, 0)
        # group into rows by the boxes' vertical centres, then read each row left to right
        items = sorted(kept, key=lambda k: (sum(p[1] for p in k[0]) / 4, k[0][0][0]))
        rows: list[list[tuple[float, str]]] = []
        last_y, height = None, 0.0
        for box, text, _ in items:
            y = sum(p[1] for p in box) / 4
            h = abs(box[3][1] - box[0][1]) or 1.0
            if last_y is None or abs(y - last_y) > 0.5 * max(h, height):
                rows.append([])
            rows[-1].append((box[0][0], text.strip()))
            last_y, height = y, h
        text = respace("\n".join(" ".join(t for _, t in sorted(row)) for row in rows))
        if len(_CJK.findall(text)) * 10 < len(_LATIN.findall(text)):  # stray, not a language
            text = "\n".join(" ".join(_CJK.sub(" ", line).split())
                              for line in text.splitlines() if _CJK.sub("", line).strip())
        conf = sum(s for _, _, s in kept) / len(kept)
        return OcrResult(text, conf, len(kept))
