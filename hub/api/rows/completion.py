"""Rows: a project's completion date (竣工), from which its records' retention period runs
(hub.retention). The role sets are the ones the desk checks again (:mod:`hub.auth.permissions`)."""

from __future__ import annotations

from typing import Final

from hub.api import completion as api
from hub.api.params import PROJECT
from hub.api.route import Route
from hub.auth import permissions as may
from hub.retention.completion import CompletionIn

TAG = "retention"
PATH = "/api/v1/projects/{project_id}/completion"

ROUTES: Final = (
    Route(
        "GET",
        PATH,
        api.get_completion,
        may.READ_COMPLETION,
        "The project's completion date (竣工) and until when its records are kept",
        TAG,
        (PROJECT,),
        description="`completed_on` null: under way, nothing expires. `kept_until`: the day the "
        "records' period ends (`completed_on` + `[retention] years`, 29 February to 1 March), "
        "from which they are purged; null while under way.",
    ),
    Route(
        "PUT",
        PATH,
        api.put_completion,
        may.WRITE_COMPLETION,
        "Set, correct or (null) clear the project's completion date; audited",
        TAG,
        (PROJECT,),
        body=CompletionIn,
        description="The city station, or the bureau of the project's district (another district's "
        "project: 403). `completed_on` is a site day (Asia/Shanghai) not after the hub's today: "
        "400 `completion_in_future` otherwise, 400 `invalid_completion` for any other body.",
    ),
)
