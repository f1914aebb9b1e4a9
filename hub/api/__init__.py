"""The oversight API: JSON over aiohttp, one route table in ``routes.py`` (rows in ``rows/``), thin views."""
