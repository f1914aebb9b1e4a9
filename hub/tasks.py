"""Moved to :mod:`sitegate.tasks`, which the lane shares (the controller never imports ``hub``)."""

from sitegate.tasks import cancel_until_done

__all__ = ["cancel_until_done"]
