"""Video files: keyframes every N seconds and at scene changes, each a picture with its
timestamp (so CLIP and OCR see it, and answers cite "video.mp4 at 01:23"). Decoded with
OpenCV's bundled FFmpeg."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import InvalidInput

from .base import Limits, Loaded, Picture

MIN_GAP_S = 1.0  # scene changes closer than this to the last keyframe are ignored


def _histogram(frame: Any) -> Any:
    import cv2

    small = cv2.resize(frame, (64, 36))
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
    return cv2.normalize(hist, hist).flatten()


def load_video(data: bytes, limits: Limits, *, name: str = "",
               base: Path | None = None) -> Loaded:
    """A keyframe every ``limits.video_every_s`` seconds, and one at each scene change: a
    frame whose colour histogram correlates less than ``limits.video_scene_threshold`` with
    the last keyframe."""
    every_s, scene_threshold = limits.video_every_s, limits.video_scene_threshold
    import cv2
    from PIL import Image

    fd, path = tempfile.mkstemp(suffix=Path(name).suffix.lower() or ".mp4")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise InvalidInput("not a readable video (corrupt, or a codec FFmpeg cannot decode)")
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        out = Loaded("video")
        last_t, last_hist, index = None, None, 0
        while len(out.pictures) < limits.max_images:
            ok, frame = cap.read()
            if not ok:
                break
            t = index / fps
            index += 1
            hist = _histogram(frame)
            due = last_t is None or t - last_t >= every_s
            scene = (last_hist is not None and t - last_t >= MIN_GAP_S  # type: ignore[operator]
                     and cv2.compareHist(last_hist, hist, cv2.HISTCMP_CORREL) < scene_threshold)
            if not (due or scene):
                continue
            rgb = Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            buf = io.BytesIO()
            rgb.save(buf, "JPEG", quality=88)
            h, w = frame.shape[:2]
            rgb.info["original_size"] = (w, h)
            where = {items.WIDTH: w, items.HEIGHT: h, items.TIMESTAMP: round(t, 2)}
            out.pictures.append(Picture(rgb, ".jpg", buf.getvalue(), where))
            last_t, last_hist = t, hist
        cap.release()
        if index == 0:
            raise InvalidInput("not a readable video (no frames could be decoded)")
        return out
    finally:
        Path(path).unlink(missing_ok=True)
