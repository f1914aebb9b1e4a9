"""A project's worker platform in the console (上传全国/省建筑工人管理服务信息平台): the upload's
queue, its failures in the platform's own words, its last success, and the settings.

The GC project department and the city change the settings (one form, as ``PUT
/api/v1/projects/{id}/platform``); the bureau reads. The appsecret field is always empty: typed, it
replaces the stored one; left empty, the stored one is kept. It is never shown, never put back
into a refused form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web
from pydantic import ValidationError

from hub.api.keys import CLOCK, STORE
from hub.api.workflows import VAULT
from hub.auth.permissions import WRITE_PLATFORM
from hub.console.form_errors import Entered, invalid, refused
from hub.console.render import checked_form, page, principal, render
from hub.console.views_projects import project_in_url
from hub.platform.settings import PlatformSettingsDesk, PlatformSettingsIn, Variant
from hub.platform.states import UploadState
from hub.platform.status import UploadStatus, upload_status
from hub.refusals import Invalid

FIELDS: Final = ("variant", "endpoint", "project_code", "appid", "appsecret", "upload_from")
"""The form's inputs, named as the model's fields."""


def _path(project_id: str) -> str:
    return f"/console/projects/{project_id}/platform"


def _values(status: UploadStatus) -> dict[str, str]:
    s = status.settings
    if s is None:
        return {"variant": Variant.PROVINCIAL.value, "enabled": "1"}
    return {
        "variant": s.variant, "endpoint": s.endpoint, "project_code": s.project_code, "appid": s.appid,
        "upload_from": s.upload_from.isoformat(), "enabled": "1" if s.enabled else "",
    }  # fmt: skip


async def _show(
    request: web.Request, project: Any, *, entered: Entered | None = None, status: int = 200
) -> web.Response:
    app = request.app
    upload = await upload_status(app[STORE], app[VAULT], principal(request), project.id)
    form = entered or Entered(values=_values(upload))
    return render(
        request,
        "platform.html",
        status=status,
        project=project,
        upload=upload,
        form=form,
        states=list(UploadState),
        variants=list(Variant),
        may_edit=principal(request).role in WRITE_PLATFORM,
    )


@page
async def platform_page(request: web.Request) -> web.Response:
    return await _show(request, await project_in_url(request))


def _model_input(form: Mapping[str, str]) -> dict[str, Any]:
    return {
        **{name: form.get(name, "").strip() for name in ("variant", "endpoint", "project_code", "appid")},
        "appsecret": form.get("appsecret") or None,
        "upload_from": form.get("upload_from") or None,
        "enabled": form.get("enabled") == "1",
    }


@page
async def save_platform(request: web.Request) -> web.Response:
    """The settings written (then back to the page), or the form again with its complaints (422);
    the appsecret typed is never sent back."""
    form = await checked_form(request)
    project = await project_in_url(request)
    kept = {k: v for k, v in form.items() if k not in ("csrf", "appsecret")}
    entered = Entered(values=kept)
    fields = {name: name for name in FIELDS}
    try:
        data = PlatformSettingsIn.model_validate(_model_input(form))
    except ValidationError as err:
        invalid(request, entered, err, fields)
        return await _show(request, project, entered=entered, status=422)
    desk = PlatformSettingsDesk(request.app[STORE], request.app[VAULT], principal(request))
    try:
        await desk.put(project.id, data, now=request.app[CLOCK].wall())
    except Invalid as err:
        refused(request, entered, err, fields, {})
        return await _show(request, project, entered=entered, status=422)
    raise web.HTTPSeeOther(_path(project.id))
