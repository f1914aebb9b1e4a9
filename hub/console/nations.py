"""The 56 nations of GB/T 3304 (民族) as a resident ID card carries them (``01`` 汉), for the
registration form's read: the ``nation`` kind of :mod:`hub.console.labels`. A foreigner's card
carries a GB/T 2659 nationality instead, shown as its code."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from wire.labels import Text

_NATIONS: Final = (
    ("汉", "Han"), ("蒙古", "Mongol"), ("回", "Hui"), ("藏", "Tibetan"), ("维吾尔", "Uyghur"),
    ("苗", "Miao"), ("彝", "Yi"), ("壮", "Zhuang"), ("布依", "Buyei"), ("朝鲜", "Korean"),
    ("满", "Manchu"), ("侗", "Dong"), ("瑶", "Yao"), ("白", "Bai"), ("土家", "Tujia"),
    ("哈尼", "Hani"), ("哈萨克", "Kazakh"), ("傣", "Dai"), ("黎", "Li"), ("傈僳", "Lisu"),
    ("佤", "Va"), ("畲", "She"), ("高山", "Gaoshan"), ("拉祜", "Lahu"), ("水", "Sui"),
    ("东乡", "Dongxiang"), ("纳西", "Naxi"), ("景颇", "Jingpo"), ("柯尔克孜", "Kyrgyz"), ("土", "Tu"),
    ("达斡尔", "Daur"), ("仫佬", "Mulao"), ("羌", "Qiang"), ("布朗", "Blang"), ("撒拉", "Salar"),
    ("毛南", "Maonan"), ("仡佬", "Gelao"), ("锡伯", "Xibe"), ("阿昌", "Achang"), ("普米", "Pumi"),
    ("塔吉克", "Tajik"), ("怒", "Nu"), ("乌孜别克", "Uzbek"), ("俄罗斯", "Russian"), ("鄂温克", "Evenki"),
    ("德昂", "De'ang"), ("保安", "Bonan"), ("裕固", "Yugur"), ("京", "Gin"), ("塔塔尔", "Tatar"),
    ("独龙", "Derung"), ("鄂伦春", "Oroqen"), ("赫哲", "Hezhen"), ("门巴", "Monpa"), ("珞巴", "Lhoba"),
    ("基诺", "Jino"),
)  # fmt: skip

NATION: Final[dict[str, Text]] = {f"{n:02d}": Text(zh, en) for n, (zh, en) in enumerate(_NATIONS, start=1)}
"""GB/T 3304 code (``01``..``56``) -> the nation's name."""
Nation = StrEnum("Nation", {f"N{code}": code for code in NATION})  # type: ignore[misc]
"""The codes themselves, for :data:`hub.console.labels.ENUMS` (the tests check the table covers them)."""
