"""Rows: a project's settings for the national or provincial worker platform, and its upload's
status (hub.platform). The role sets are the ones the desk checks again (:mod:`hub.auth.permissions`)."""

from __future__ import annotations

from typing import Final

from hub.api import platform as api
from hub.api.params import PROJECT
from hub.api.route import Route
from hub.auth import permissions as may
from hub.platform.settings import PlatformSettingsIn

TAG = "worker platform"
PATH = "/api/v1/projects/{project_id}/platform"

ROUTES: Final = (
    Route(
        "GET",
        PATH,
        api.get_platform,
        may.READ_PLATFORM,
        "The project's worker-platform settings (never the appsecret; null when never set)",
        TAG,
        (PROJECT,),
    ),
    Route(
        "PUT",
        PATH,
        api.put_platform,
        may.WRITE_PLATFORM,
        "Set the project's worker-platform settings; without `appsecret` the stored one is kept",
        TAG,
        (PROJECT,),
        body=PlatformSettingsIn,
    ),
    Route(
        "GET",
        f"{PATH}/uploads",
        api.get_uploads,
        may.READ_PLATFORM,
        "The upload's queue, its failures in the platform's words and its last success",
        TAG,
        (PROJECT,),
    ),
)
