"""Videos: keyframes every N seconds and at scene changes, with timestamps in citations."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.loaders import Limits, load
from ingest.pipeline import Ingestor, Source
from rag.errors import InvalidInput
from rag.schema import Query

pytestmark = pytest.mark.slow
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def frame(color, text=None):
    im = Image.new("RGB", (480, 270), color)
    if text:
        try:
            font = ImageFont.truetype(FONT, 24)
        except OSError:
            font = ImageFont.load_default(24)
        ImageDraw.Draw(im).text((20, 110), text, fill="black", font=font)
    return np.asarray(im)[:, :, ::-1]  # RGB -> BGR for OpenCV


def make_video(path, fps=10):
    """9 seconds: a red title, then (at 3 s) a white card with text, then (at 6 s) green."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (480, 270))
    scenes = [(frame((200, 40, 40)), 3), (frame((255, 255, 255),
                                                 "Exit doors are marked in green."), 3),
              (frame((40, 170, 60)), 3)]
    for image, seconds in scenes:
        for _ in range(seconds * fps):
            writer.write(image)
    writer.release()
    return path.read_bytes()


def test_keyframes_at_intervals_and_scene_changes(tmp_path):
    data = make_video(tmp_path / "training.mp4")
    loaded = load("training.mp4", data, Limits(10**7, 10**8, video_every_s=5.0))
    times = [p.meta["timestamp"] for p in loaded.pictures]
    assert times == [0.0, 3.0, 6.0]  # the start, then two scene changes before 5 s passes
    assert loaded.pictures[1].image.size == (480, 270)
    every = load("training.mp4", data, Limits(10**7, 10**8, video_every_s=2.0,
                                             video_scene_threshold=-1.0))  # scenes off
    assert [p.meta["timestamp"] for p in every.pictures] == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_broken_video_is_refused():
    with pytest.raises(InvalidInput, match="not a readable video"):
        load("broken.mp4", b"\x00\x00\x00\x18ftypmp42 not really", Limits(10**7, 10**8))


def test_answers_cite_the_moment_in_the_video(service, tmp_path):
    data = make_video(tmp_path / "training.mp4")
    ingestor = Ingestor(service)
    report = ingestor.ingest([Source("training.mp4", data=data)])
    assert report.files[0].status == "ingested" and report.images == 3
    answer = service.answer(Query(text="How are exit doors marked?"))
    assert "marked in green" in answer.text
    top = answer.citations[0]
    assert top.source == "training.mp4" and top.location == "at 00:03"
    assert top.modality == "image" and ingestor.image_file("default", top.id)[1] == "image/jpeg"
