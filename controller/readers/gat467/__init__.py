"""The GA/T 467 serial ID module protocol, without I/O: frames, status codes, text blocks.

The adapter that owns a real port is :mod:`controller.readers.serial_module`; the emulator in
:mod:`hardware.emulators.id_module` speaks the same frames from the other side.
"""
