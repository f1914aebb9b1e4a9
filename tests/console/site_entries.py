"""One access-log row as the site pages get it (hub.oversight.site_records.LogEntry): 王伟 of the
subcontractor's 钢筋班 in at the east gate at 08:00 Beijing time, granted, his number masked. Tests
vary it with dataclasses.replace."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.oversight.site_records import LogEntry

NUMBER = "330106199001011234"
MASKED = "330106********1234"
ENTRY = LogEntry(
    wall_time=datetime(2025, 5, 5, 0, 0, tzinfo=UTC),
    gate="东门进",
    lane="A1",
    direction="in",
    decision="granted",
    reason="granted",
    warnings="",
    person_id="per-w1",
    name="王伟",
    id_number=MASKED,
    enterprise_name="拱墅劳务有限公司",
    team_name="钢筋班",
    clock_suspect=False,
    flag=None,
    cursor="c1",
)
