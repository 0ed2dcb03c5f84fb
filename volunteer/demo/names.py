"""Deterministic Chinese personal names and unique mainland mobile numbers for the demo."""

import random

# Common surnames, most frequent first; the weights fall off roughly as in the census.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
SURNAME_WEIGHTS = tuple(1 / (rank + 4) for rank in range(len(SURNAMES)))
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")

# Characters people really use in given names, by the feel they usually carry.
GIVEN_NEUTRAL = "文明华国建平志海永新春晓宇佳子一思嘉欣诗雨辰星安乐博远"
GIVEN_MASCULINE = "伟强军勇杰涛斌超刚磊鹏飞浩宏俊峰辉健亮龙旭东林成兵波毅"
GIVEN_FEMININE = "芳娜敏静丽艳娟霞秀英玲婷雪梅琳燕萍红洁颖慧倩丹璐悦瑶琴兰"

# 13x, 15x and 18x: the prefixes the demo draws from (154 was never issued).
MOBILE_PREFIXES = (
    tuple(f"13{d}" for d in range(10)) + tuple(f"15{d}" for d in "01235789") + tuple(f"18{d}" for d in range(10))
)


def _surname(rng: random.Random) -> str:
    if rng.random() < 0.01:
        return rng.choice(COMPOUND_SURNAMES)
    return rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]


def _given(rng: random.Random) -> str:
    pool = rng.choice((GIVEN_MASCULINE, GIVEN_FEMININE)) + GIVEN_NEUTRAL
    length = 1 if rng.random() < 0.3 else 2
    first = rng.choice(pool)
    if length == 1:
        return first
    second = rng.choice(pool)
    while second == first and rng.random() < 0.8:  # 婷婷 happens, but rarely
        second = rng.choice(pool)
    return first + second


class NameMaker:
    """Draws full names such as 张晓燕 or 李强; never the same name twice."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self) -> str:
        while True:
            name = _surname(self.rng) + _given(self.rng)
            if name not in self.used:
                self.used.add(name)
                return name


class PhoneMaker:
    """Draws 11-digit mobiles like 13812345678, never one already taken or reserved."""

    def __init__(self, rng: random.Random, reserved_prefix: str):
        self.rng = rng
        self.reserved_prefix = reserved_prefix
        self.used: set[str] = set()

    def take(self, phone: str) -> str:
        """Claim a fixed number (the memorable demo logins)."""
        if phone in self.used:
            raise ValueError(f"demo phone {phone} used twice")
        self.used.add(phone)
        return phone

    def __call__(self) -> str:
        while True:
            phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.used and not phone.startswith(self.reserved_prefix):
                return self.take(phone)
