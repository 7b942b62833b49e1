"""Regenerates the images of the sample knowledge base (examples/kb/images).

The rendered images (a chart, a screenshot, a sign, a slide) carry real text, for OCR and
for answers that cite images. The photos come from scikit-image's sample data:
astronaut (NASA, public domain), coffee (Rachel Michetti, CC0), chelsea (Stefan van der
Walt, CC0), rocket (SpaceX, public domain). Run with scikit-image installed:

    pip install scikit-image && python examples/make_images.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).parent / "kb" / "images"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(BOLD if bold else FONT, size)
    except OSError:
        return ImageFont.load_default(size)


def chart() -> Image.Image:
    im = Image.new("RGB", (640, 420), "white")
    d = ImageDraw.Draw(im)
    d.text((20, 15), "Northwind Labs quarterly revenue 2026 (EUR million)", fill="black",
           font=font(20, True))
    bars = [("Q1", 3.1), ("Q2", 3.6), ("Q3", 4.2), ("Q4 forecast", 4.8)]
    base, scale = 370, 60
    for i, (label, value) in enumerate(bars):
        x = 60 + i * 140
        d.rectangle([x, base - value * scale, x + 90, base], fill=(40, 90, 160))
        d.text((x + 20, base - value * scale - 28), f"{value:.1f}", fill="black", font=font(18))
        d.text((x, base + 8), label, fill="black", font=font(16))
    d.line([40, base, 620, base], fill="black", width=2)
    return im


def screenshot() -> Image.Image:
    im = Image.new("RGB", (640, 300), (235, 235, 235))
    d = ImageDraw.Draw(im)
    d.rectangle([20, 20, 620, 280], fill="white", outline=(120, 120, 120), width=2)
    d.rectangle([20, 20, 620, 60], fill=(200, 40, 40))
    d.text((35, 28), "VPN connection failed", fill="white", font=font(20, True))
    lines = ["Error 809: The network connection between your",
             "computer and the VPN server could not be established.",
             "Check that you are connected to the internet, then",
             "contact the IT helpdesk at extension 4357."]
    for i, line in enumerate(lines):
        d.text((40, 85 + i * 32), line, fill="black", font=font(18))
    d.rectangle([500, 225, 600, 265], fill=(220, 220, 220), outline="gray")
    d.text((530, 235), "OK", fill="black", font=font(18))
    return im


def sign() -> Image.Image:
    im = Image.new("RGB", (560, 320), (20, 60, 110))
    d = ImageDraw.Draw(im)
    d.text((40, 40), "Guest Wi-Fi", fill="white", font=font(40, True))
    d.text((40, 120), "Network: NorthwindGuest", fill="white", font=font(28))
    d.text((40, 170), "Password: BlueHarbor2026", fill="white", font=font(28))
    d.text((40, 250), "Valid for visitors, 24 hours", fill=(200, 220, 255), font=font(20))
    return im


def slide() -> Image.Image:
    im = Image.new("RGB", (800, 450), "white")
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, 800, 80], fill=(0, 120, 60))
    d.text((30, 20), "Fire safety: evacuation", fill="white", font=font(34, True))
    points = ["Leave by the nearest marked exit; do not use the lifts.",
              "Assembly point: parking lot C, next to the bike shelter.",
              "Floor wardens wear orange vests and count their teams.",
              "Fire drill: first Tuesday of March and September."]
    for i, p in enumerate(points):
        d.text((40, 120 + i * 70), "\u2022 " + p, fill="black", font=font(22))
    return im


def photos() -> dict[str, Image.Image]:
    try:
        from skimage import data
    except ImportError:
        print("scikit-image is not installed: keeping the photos already in", OUT)
        return {}
    arrays = {"astronaut": data.astronaut(), "espresso": data.coffee(),
              "office-cat-chelsea": data.chelsea(), "rocket-launch": data.rocket()}
    out = {}
    for name, arr in arrays.items():
        im = Image.fromarray(arr).convert("RGB")
        im.thumbnail((480, 480))
        out[name] = im
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    chart().save(OUT / "q3-revenue-chart.png", optimize=True)
    screenshot().save(OUT / "vpn-error-809.png", optimize=True)
    sign().save(OUT / "guest-wifi-sign.png", optimize=True)
    slide().save(OUT / "fire-evacuation-slide.png", optimize=True)
    for name, im in photos().items():
        im.save(OUT / f"{name}.jpg", quality=85)
    print("wrote", sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
