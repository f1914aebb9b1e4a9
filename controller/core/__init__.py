"""The controller's pure core: credentials, roster lookups and the access decision.

No I/O library is imported here (no asyncio, serial, smartcard, gpiozero, paho, tinydb, sqlite3):
everything in this package takes values in and returns values, so it is tested exhaustively and
benchmarked without hardware.
"""
