"""The people and cars of a year at a dealership: names, phones, plates and VINs.

Data, kept apart from the generators (the demo's months, `bench.year`) so each reads on
its own."""

from __future__ import annotations

import random

from app.demo import data as demo_data
from app.services.vin import with_check_digit

# The hundred commonest surnames cover most people; these are the first forty.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "晓东", "子涵",
    "浩然", "欣怡", "梓轩", "雨桐", "俊杰", "佳怡", "宇航", "思远", "文博", "丽华", "国强",
    "春梅", "建国", "玉兰", "志明", "婷婷", "鹏", "斌", "辉", "红", "波", "鑫", "瑶",
)  # fmt: skip
# Mobile prefixes of the three carriers.
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "183", "185", "186",
    "187", "188", "189", "191", "198", "199",
)  # fmt: skip
# A Shenzhen dealership: mostly 粤B, some from the rest of Guangdong and further away.
PLATE_PREFIXES = ("粤B",) * 16 + ("粤A", "粤S", "粤E", "湘A", "赣B", "桂A", "川A", "鄂A")
# Car models, VIN year codes and plate letters as the demo's (app.demo.data).
MODELS, PLATE_LETTERS = demo_data.MODELS, demo_data.PLATE_LETTERS
YEAR_CODES = {**demo_data.YEAR_CODES, 2025: "S"}  # a year of history reaches this year's cars
# The customer's words, 5W2H (what, when, where) and the labour operation that fixes it.
CONCERNS = (
    ("到了保养里程，换机油", "定期保养", "仪表提示保养", "发动机", "L-OIL"),
    ("刹车时前面有异响", "异响", "刹车时", "前轮", "L-BRKF"),
    ("空调不凉，出风有异味", "空调制冷差", "开空调时", "车内", "L-AC"),
    ("冷车启动时发动机抖动", "抖动", "冷车启动", "发动机舱", "L-SPK"),
    ("加速无力，油耗变高", "动力不足", "加速时", "发动机", "L-AIRF"),
    ("早上启动困难，打火慢", "启动困难", "冷车启动", "发动机舱", "L-BATT"),
    ("刹车踏板变软，要踩很深", "刹车发软", "刹车时", "刹车踏板", "L-BFL"),
    ("出风口风量小，有灰尘味", "空调风量小", "开空调时", "出风口", "L-CABF"),
)
BELONGINGS = ("行车记录仪", "雨伞", "充电线", "儿童座椅", "墨镜")
DAMAGE_NOTES = ("轻微划痕", "小凹陷", "漆面擦伤", "轮毂刮花", "前挡小石击")


class Unique:
    """Draws values until one is new: plates, VINs and phones are unique in a year."""

    def __init__(self, seen: set[str] | None = None) -> None:
        self.seen: set[str] = seen if seen is not None else set()

    def draw(self, make: object) -> str:
        while True:
            value = str(make() if callable(make) else make)
            if value not in self.seen:
                self.seen.add(value)
                return value


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def plate(rng: random.Random) -> str:
    """粤B12345 as the app stores it (plates.normalise drops the ·); one in ten is a
    new-energy plate (six characters, D or F first)."""
    prefix = rng.choice(PLATE_PREFIXES)
    if rng.random() < 0.1:
        return prefix + rng.choice("DF") + f"{rng.randrange(10**5):05d}"
    tail = [rng.choice("0123456789") for _ in range(5)]
    if rng.random() < 0.6:  # one letter among the digits
        tail[rng.randrange(5)] = rng.choice(PLATE_LETTERS)
    return prefix + "".join(tail)


def vin(rng: random.Random, wmi: str, vds: str, year: int) -> str:
    serial = f"{rng.randrange(1, 999999):06d}"
    return with_check_digit(f"{wmi}{vds}0{YEAR_CODES[year]}{rng.choice('ABCDEFGH')}{serial}")
