"""The lanes as the hub knows them: health, commands and enrolment.

- :class:`~hub.devices.devices.Devices`: the lanes one account sees, their health and command logs;
- :class:`~hub.devices.command_desk.CommandDesk`: issuing a command and taking the lane's answer;
- :class:`~hub.devices.enrolment.Enrolments`: enrolment tokens and revocations, with their audit;
- :class:`~hub.devices.internal.InternalDeviceReads`: the unscoped path, for internal jobs and tests.
"""
