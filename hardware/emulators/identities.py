"""Synthetic people for tests and demos: plausible cards, valid check digits, nobody real.

Names come from short fixed lists, addresses are on an invented "测试路" in Hangzhou, and every
value is drawn from the ``random.Random`` passed in, so a seed reproduces a whole roster.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from types import EllipsisType
from typing import Final

from controller.core.cards import IdentityCard
from wire.idnumber import check_digit, with_check_digit
from wire.models import CardKind

SURNAMES: Final = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙")
GIVEN_NAMES: Final = ("伟", "芳", "敏", "静", "磊", "洋", "勇", "杰", "涛", "明", "建国", "秀英", "志强")
HANGZHOU_DISTRICTS: Final = {
    "330102": "上城",
    "330105": "拱墅",
    "330106": "西湖",
    "330108": "滨江",
    "330109": "萧山",
    "330110": "余杭",
    "330111": "富阳",
}
HMT_REGION_CODES: Final = ("810000", "820000", "830000")
# (GB/T 2659 alpha-3, numeric) pairs: the 2017 card number starts with the letters, the 2023 one
# carries the digits.
NATIONALITIES: Final = (("USA", "840"), ("CAN", "124"), ("DEU", "276"), ("FRA", "250"), ("JPN", "392"))
ENGLISH_NAMES: Final = ("SAMPLE, ALEX", "EXAMPLE, JORDAN", "TESTER, MORGAN", "DUMMY, CASEY")
FOREIGNER_ISSUER: Final = "1500"

_CHECK_CHARS: Final = "0123456789X"


def synthetic_identity(
    rng: random.Random,
    *,
    kind: CardKind = CardKind.RESIDENT,
    valid_to: date | EllipsisType | None = ...,
    valid_from: date | None = None,
    birth_date: date | None = None,
) -> IdentityCard:
    """A card of ``kind`` for an invented person born 1965-2004.

    ``valid_to`` left as ``...`` follows the issuing rules (resident: 5, 10 or 20 years by age at
    issue, long-term from 46; foreigners: 10 years); ``None`` means long-term (长期).
    """
    born = birth_date or _day_between(rng, date(1965, 1, 1), date(2004, 12, 31))
    issued = valid_from or _day_between(rng, date(2016, 1, 1), date(2025, 12, 31))
    until = _default_valid_to(kind, born, issued) if valid_to is ... else valid_to
    district = rng.choice(sorted(HANGZHOU_DISTRICTS))
    sequence = rng.randrange(1, 1000)
    gender = "1" if sequence % 2 else "2"  # GB 11643: odd sequence digit for men
    name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
    tail = f"{born:%Y%m%d}{sequence:03d}"
    if kind in (CardKind.RESIDENT, CardKind.HMT_RESIDENCE_PERMIT):
        resident = kind is CardKind.RESIDENT
        region = district if resident else rng.choice(HMT_REGION_CODES)
        return IdentityCard(
            kind=kind,
            name=name,
            id_number=with_check_digit(region + tail),
            birth_date=born,
            valid_from=issued,
            valid_to=until,
            gender=gender,
            nation="01" if resident else "",
            address=f"浙江省杭州市{HANGZHOU_DISTRICTS[district]}区测试路{rng.randrange(1, 200)}号",
            issuer=f"杭州市公安局{HANGZHOU_DISTRICTS[district]}分局",
        )
    alpha3, numeric = rng.choice(NATIONALITIES)
    if kind is CardKind.FOREIGNER_2017:
        number = f"{alpha3}33{born:%y%m%d}{rng.randrange(10000):04d}"
        issuer = FOREIGNER_ISSUER
    elif kind is CardKind.FOREIGNER_2023:
        number = with_check_digit(f"933{numeric}{tail}")
        issuer = ""
    else:
        raise ValueError(f"{kind.value} is not an ID-module card")
    return IdentityCard(
        kind=kind,
        name=name,
        id_number=number,
        birth_date=born,
        valid_from=issued,
        valid_to=until,
        gender=gender,
        issuer=issuer,
        english_name=rng.choice(ENGLISH_NAMES),
        nationality=alpha3,
    )


def bad_check_digit(number: str) -> str:
    """``number`` with its 18th character replaced by one that fails the GB 11643 check."""
    right = check_digit(number[:17])
    wrong = _CHECK_CHARS[(_CHECK_CHARS.index(right) + 1) % len(_CHECK_CHARS)]
    return number[:17] + wrong


def _default_valid_to(kind: CardKind, born: date, issued: date) -> date | None:
    age = issued.year - born.year - ((issued.month, issued.day) < (born.month, born.day))
    if kind in (CardKind.FOREIGNER_2017, CardKind.FOREIGNER_2023):
        return _years_later(issued, 10 if age >= 18 else 5)
    if age >= 46:
        return None
    return _years_later(issued, 5 if age < 16 else 10 if age < 26 else 20)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))
