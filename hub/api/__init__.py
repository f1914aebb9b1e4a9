"""The oversight API: JSON over aiohttp, a URL map in ``routes.py``, thin views."""
