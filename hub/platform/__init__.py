"""The national and provincial worker platforms (issue 19): a real client, not an export.

The national platform (全国建筑工人管理服务信息平台) and the provinces' platforms built on its
interface take a project's 班组 (``Team.Add``), then its people (``ProjectWorker.Add``), then their
attendance (``WorkerAttendance.Add``), each a signed form POST answered asynchronously: a
``requestSerialCode`` now, the outcome later through ``AsyncHandleResult.Query``.

The modules, pure core first:

- :mod:`~hub.platform.protocol`: signing, the answers and their codes;
- :mod:`~hub.platform.cipher`: the ID numbers' AES/CBC/PKCS7 under the project's appsecret;
- :mod:`~hub.platform.dictionaries`: the hub's codes as the platform's dictionaries, one table;
- :mod:`~hub.platform.payloads`: the three requests' bodies, and attendance cut per team by 20;
- :mod:`~hub.platform.states`: where a team, worker or event stands, and the retry policy;
- :mod:`~hub.platform.settings`: a project's settings (appsecret sealed, never shown back);
- :mod:`~hub.platform.ledger`: the uploader's rows (what is queued, sent, accepted, failed);
- :mod:`~hub.platform.client`: the HTTP edge;
- :mod:`~hub.platform.uploader`: the hub's background task that ties them together;
- :mod:`~hub.platform.status`: what the console and the API show per project.

The shapes follow open clients of the platform, which agree on them: ibisTime/xn-gchf (a Zhejiang
client: ``gov/GovConnecter.java``, ``common/AesUtils.java``, ``gov/GovUtil.java``, its ``enums``),
a Jinhua reporting client (``JinHuaConfig``: methods and the −1..−5 messages) and a national
attendance client (``JsgDeviceServiceProvider``: ``WorkerAttendance.Add`` with ``teamSysNo``).
"""
