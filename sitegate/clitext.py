"""What the command line prints: help without reST markup, failures without Python's names.

The parsers' descriptions come from module docstrings written for the API documentation
(``sitegate demo``, :mod:`sitegate.demo_lanes`); a person typing ``--help`` should read
"sitegate demo" and "sitegate.demo_lanes". An error reaches the terminal as what went wrong and
what to do, never as ``OperationalError: ...`` (issue 14).
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":[a-z]+:`(~?)([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_CLASS = r"(?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*(?:Error|Exception|Warning)|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+)"
"""An exception class's name: ``...Error`` and its kin, or any CamelCase name (``AccountExists``)."""
_PYTHON_NAME = re.compile(rf"\({_CLASS}\)\s*|\b{_CLASS}\b(?::\s*|\s*$)")
"""``Name: `` before a message, ``(module.Name) `` as SQLAlchemy writes it, or a name alone."""


def plain_help(doc: str | None) -> str:
    """``doc`` with its reST markup taken off: ``x`` and :mod:`x` read x; :class:`~a.B` reads B."""
    text = _ROLE.sub(lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2), doc or "")
    return _LITERAL.sub(r"\1", text).strip()


def plain_error(err: BaseException) -> str:
    """What ``err`` says, without the exception's class names (``OperationalError: ...``,
    ``sqlite3.OperationalError: ...``), nor the class name alone when it said nothing else."""
    text = _PYTHON_NAME.sub("", str(err)).strip()
    return text or "no detail"
