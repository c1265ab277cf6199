"""Everything Discord: the client, cogs, views, rendering and the local Discord emulator.

``bot.rules`` holds the contest rules as plain Python (no discord, no SQL).
"""
