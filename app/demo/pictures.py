"""The demo's check-in photos, drawn here with Pillow: the side of the car each walkaround
position sees, in the car's colour, with the position's name on it. Small (800x600 JPEG)
so that loading the demo stays quick; they go through the real photo pipeline."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 800, 600
# The position's name on the picture, as the advisor's tablet names it.
LABELS = {
    "front": "正前方 Front", "front_right": "右前方 Front right", "right": "右侧 Right side",
    "rear_right": "右后方 Rear right", "rear": "正后方 Rear", "rear_left": "左后方 Rear left",
    "left": "左侧 Left side", "front_left": "左前方 Front left", "interior": "车内 Interior",
    "dashboard": "仪表盘 Dashboard", "boot": "后备箱 Boot",
}  # fmt: skip
COLOURS = {
    "白色": (236, 238, 240), "黑色": (40, 42, 48), "银色": (188, 192, 198),
    "灰色": (120, 124, 130), "红色": (176, 32, 40), "香槟金": (214, 190, 140),
    "蓝色": (40, 84, 160),
}  # fmt: skip
_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
INK = (20, 24, 40)
GLASS = (150, 190, 220)
TYRE = (30, 30, 34)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)  # no CJK font: the English half still reads


def _side(draw: ImageDraw.ImageDraw, body: tuple[int, int, int], mirrored: bool) -> None:
    """A saloon in profile, its front to the left (mirrored: to the right)."""

    def x(v: float) -> float:
        return WIDTH - v if mirrored else v

    def poly(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x(px), py) for px, py in points]

    draw.polygon(poly([(90, 390), (100, 320), (230, 300), (300, 230), (520, 225), (610, 300),
                       (710, 315), (720, 390)]), fill=body, outline=INK, width=4)  # fmt: skip
    draw.polygon(poly([(320, 240), (410, 238), (410, 300), (250, 302)]), fill=GLASS, outline=INK)
    draw.polygon(poly([(425, 238), (510, 236), (585, 300), (425, 300)]), fill=GLASS, outline=INK)
    draw.line(poly([(415, 305), (415, 385)]), fill=INK, width=3)  # the doors
    draw.line(poly([(250, 305), (260, 385)]), fill=INK, width=3)
    for cx in (210, 600):
        left, right = sorted((x(cx - 55), x(cx + 55)))
        draw.ellipse((left, 340, right, 450), fill=TYRE)
        left, right = sorted((x(cx - 28), x(cx + 28)))
        draw.ellipse((left, 367, right, 423), fill=(170, 172, 178))


def _end(draw: ImageDraw.ImageDraw, body: tuple[int, int, int], plate: str, front: bool) -> None:
    """The car from the front or the rear: body, windscreen, lights, plate."""
    draw.rectangle((200, 400, 260, 460), fill=TYRE)
    draw.rectangle((540, 400, 600, 460), fill=TYRE)
    draw.polygon([(170, 410), (180, 300), (250, 290), (290, 200), (510, 200), (550, 290),
                  (620, 300), (630, 410)], fill=body, outline=INK, width=4)  # fmt: skip
    draw.polygon([(305, 212), (495, 212), (530, 288), (270, 288)], fill=GLASS, outline=INK)
    light = (255, 244, 200) if front else (200, 30, 30)
    draw.rounded_rectangle((195, 310, 285, 345), radius=10, fill=light, outline=INK)
    draw.rounded_rectangle((515, 310, 605, 345), radius=10, fill=light, outline=INK)
    draw.rectangle((330, 355, 470, 395), fill=(20, 60, 160))
    draw.text((400, 375), plate, font=_font(26), fill=(255, 255, 255), anchor="mm")


def _interior(draw: ImageDraw.ImageDraw, body: tuple[int, int, int]) -> None:
    draw.rectangle((0, 330, WIDTH, HEIGHT), fill=(70, 72, 80))
    draw.ellipse((220, 200, 460, 440), outline=INK, width=22)  # the steering wheel
    draw.ellipse((310, 290, 370, 350), fill=INK)
    draw.rounded_rectangle((560, 300, 700, 560), radius=20, fill=body, outline=INK, width=4)


def _dashboard(draw: ImageDraw.ImageDraw, odometer: str) -> None:
    draw.rectangle((60, 180, 740, 460), fill=(30, 32, 38))
    for cx in (250, 550):
        draw.ellipse((cx - 120, 200, cx + 120, 440), outline=(230, 230, 230), width=6)
        draw.line((cx, 320, cx - 70, 250), fill=(240, 80, 40), width=6)
    draw.rectangle((330, 380, 470, 420), fill=(10, 10, 10))
    draw.text((400, 400), odometer, font=_font(24), fill=(120, 230, 140), anchor="mm")


def _boot(draw: ImageDraw.ImageDraw, body: tuple[int, int, int]) -> None:
    draw.rectangle((140, 180, 660, 460), fill=body, outline=INK, width=4)
    draw.rectangle((180, 220, 620, 430), fill=(60, 60, 66))
    draw.ellipse((300, 250, 500, 410), fill=TYRE)  # the spare tyre
    draw.ellipse((360, 300, 440, 360), fill=(170, 172, 178))


def draw(position: str, colour: str, plate: str, odometer_km: int) -> Image.Image:
    """The picture of one walkaround position."""
    body = COLOURS.get(colour, (188, 192, 198))
    image = Image.new("RGB", (WIDTH, HEIGHT), (214, 224, 232))
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 470, WIDTH, HEIGHT), fill=(150, 152, 150))  # the lane's floor
    if position in ("front", "rear"):
        _end(pen, body, plate, front=position == "front")
    elif position in ("right", "front_right", "rear_right", "left", "front_left", "rear_left"):
        # Seen from its right side a car's front is on the right.
        _side(pen, body, mirrored=not position.endswith("left"))
    elif position == "interior":
        _interior(pen, body)
    elif position == "dashboard":
        _dashboard(pen, f"{odometer_km:06d} km")
    else:
        _boot(pen, body)
    pen.rectangle((0, 0, WIDTH, 70), fill=(11, 61, 145))
    pen.text((24, 35), LABELS.get(position, position), font=_font(34), fill=(255, 255, 255),
             anchor="lm")  # fmt: skip
    pen.text((WIDTH - 24, 35), plate, font=_font(28), fill=(255, 255, 255), anchor="rm")
    return image


def close_up(kind: str, note: str, colour: str) -> Image.Image:
    """A damage mark's photo: the panel close up, the damage drawn on it, the note."""
    body = COLOURS.get(colour, (188, 192, 198))
    image = Image.new("RGB", (WIDTH, HEIGHT), body)
    pen = ImageDraw.Draw(image)
    if kind == "dent":
        pen.ellipse((300, 220, 500, 380), outline=INK, width=6)
        pen.arc((330, 250, 470, 350), 200, 340, fill=INK, width=4)
    else:
        pen.line([(260, 330), (360, 300), (470, 280), (560, 250)], fill=(90, 90, 96), width=7)
        pen.line([(262, 324), (362, 294), (472, 274), (562, 244)], fill=(250, 250, 250), width=3)
    pen.rectangle((0, HEIGHT - 80, WIDTH, HEIGHT), fill=(11, 61, 145))
    pen.text((24, HEIGHT - 40), note, font=_font(32), fill=(255, 255, 255), anchor="lm")
    return image


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
