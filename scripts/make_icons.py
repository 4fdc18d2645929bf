"""Draw the app icons (run once; the PNGs are committed). `python scripts/make_icons.py`"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "app" / "static" / "icons"
BLUE = (11, 61, 145)
AMBER = (255, 193, 7)


def draw(size: int, maskable: bool) -> Image.Image:
    img = Image.new("RGB", (size, size), BLUE)
    d = ImageDraw.Draw(img)
    # Maskable icons keep their content inside the central 80% safe zone.
    inset = size * (0.22 if maskable else 0.12)
    box = (inset, inset, size - inset, size - inset)
    w = box[2] - box[0]
    # A car seen from the side: body, cabin, two wheels, and a check mark.
    body = (box[0], box[1] + w * 0.42, box[2], box[1] + w * 0.72)
    d.rounded_rectangle(body, radius=w * 0.08, fill="white")
    cabin = [
        (box[0] + w * 0.2, body[1]),
        (box[0] + w * 0.32, box[1] + w * 0.2),
        (box[0] + w * 0.7, box[1] + w * 0.2),
        (box[0] + w * 0.84, body[1]),
    ]
    d.polygon(cabin, fill="white")
    r = w * 0.11
    for cx in (box[0] + w * 0.25, box[0] + w * 0.75):
        cy = body[3]
        d.ellipse(
            (cx - r, cy - r, cx + r, cy + r), fill=AMBER, outline=BLUE, width=max(2, size // 64)
        )
    tick = [
        (box[0] + w * 0.36, box[1] + w * 0.55),
        (box[0] + w * 0.47, box[1] + w * 0.64),
        (box[0] + w * 0.66, box[1] + w * 0.46),
    ]
    d.line(tick, fill=BLUE, width=max(3, size // 24), joint="curve")
    return img


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, False).save(OUT / f"icon-{size}.png", optimize=True)
        draw(size, True).save(OUT / f"maskable-{size}.png", optimize=True)
    draw(180, False).save(OUT / "apple-touch-icon.png", optimize=True)
