"""The hub's codes as the platform's dictionaries: one table, with where each comes from.

Sources: the platform's data standard as the open clients carry it, ibisTime/xn-gchf
``enums/EIdCardType.java`` (人员证件类型 01-17), ``enums/EWorkerType.java`` (工种),
``enums/EWorkerRoleType.java`` (工人类型), ``enums/EAttendanceDirection.java`` (考勤方向: 01 in,
02 out); the data standard's 20 (外国人身份证件) and 99 (其他证件) for the cards that list has no
name for. :mod:`hub.workflows.national` and the stand-in read the same table, so the export, the
uploader and the platform we test against never disagree.

The hub records no trade (工种) of a worker: a 班组 is named for its trade on site (钢筋班组,
木工班), so a worker's work type is the trade its team's name carries (:func:`work_type_of`); a
team whose name names no trade cannot register its workers, and the console says so. A manager is
``900`` 管理人员 whatever its position.
"""

from __future__ import annotations

from typing import Final

ID_CARD_TYPES: Final = {
    "01": "居民身份证", "02": "军官证", "03": "武警警官证", "04": "士兵证", "05": "军队离退休干部证",
    "06": "残疾人证", "07": "残疾军人证（1-8 级）", "08": "护照", "09": "港澳同胞回乡证",
    "10": "港澳居民来往内地通行证", "11": "中华人民共和国往来港澳通行证", "12": "台湾居民来往大陆通行证",
    "13": "大陆居民往来台湾通行证", "14": "外交官证", "15": "领事馆证", "16": "海员证", "17": "香港身份证",
    "20": "外国人身份证件", "99": "其他证件",
}  # fmt: skip
"""The platform's 人员证件类型."""
CARD_KINDS: Final = {
    "resident": "01",  # 居民身份证
    "hmt_residence_permit": "99",  # 港澳台居民居住证: no code of its own in the dictionary
    "foreigner_2017": "20",  # 外国人永久居留身份证 (2017 layout)
    "foreigner_2023": "20",  # 外国人永久居留身份证 (2023 layout)
}
"""The hub's card kinds (hub.registry.models.PersonCardKind) -> 人员证件类型."""

WORK_TYPES: Final = {
    "010": "砌筑工", "020": "钢筋工", "030": "架子工", "040": "混凝土工", "050": "模板工",
    "060": "机械设备安装工", "070": "通风工", "080": "安装起重工", "090": "安装钳工",
    "100": "电气设备安装调试工", "110": "管道工", "120": "变电安装工", "130": "建筑电工", "140": "司泵工",
    "150": "挖掘铲运和桩工机械司机", "160": "桩机操作工", "170": "起重信号工",
    "180": "建筑起重机械安装拆卸工", "190": "装饰装修工", "200": "室内成套设施安装工",
    "210": "建筑门窗幕墙安装工", "220": "幕墙制作工", "230": "防水工", "240": "木工", "250": "石工",
    "270": "电焊工", "280": "爆破工", "290": "除尘工", "300": "测量放线工", "310": "线路架设工",
    "320": "古建筑传统石工", "330": "古建筑传统瓦工", "340": "古建筑传统彩画工", "350": "古建筑传统木工",
    "900": "管理人员",
}  # fmt: skip
"""The platform's 工种."""
MANAGER_WORK_TYPE: Final = "900"
TRADE_WORDS: Final = {
    **{name.removesuffix("工"): code for code, name in WORK_TYPES.items() if code != MANAGER_WORK_TYPE},
    "瓦工": "010",  # 砌筑 on site
    "电工": "130",
    "焊工": "270",
    "泥工": "010",
}
"""What a team's name says of its trade -> 工种 (the longest word found wins: 古建筑传统木 over 木)."""

WORKER_ROLES: Final = {"manager": "10", "worker": "20"}
"""The hub's person categories -> the platform's 工人类型 (10 管理人员, 20 建筑工人)."""
DIRECTIONS: Final = {"in": "01", "out": "02"}
"""A passage's direction -> 考勤方向."""
ATTEND_TYPE: Final = "001"
"""``attendType`` (通行方式): 001, a card read at a gate, as the provincial clients send it for an ID
card; not in the clients' enums, so to be checked against the platform's current dictionary."""


def card_type_of(card_kind: str) -> str:
    return CARD_KINDS.get(card_kind, "99")


def work_type_of(category: str, team_name: str) -> str | None:
    """The 工种 of a person in a team: 900 for a manager; for a worker, the trade its team's name
    carries, None when it carries none."""
    if category == "manager":
        return MANAGER_WORK_TYPE
    found = [word for word in TRADE_WORDS if word and word in team_name]
    if not found:
        return None
    return TRADE_WORDS[max(found, key=len)]
