"""Everything Discord: the client, cogs, views, the contest engine and rendering.

``bot.context.BotContext`` is what the parts share (store, clock, per-guild locks, channel and
name lookups, the AI, the configuration); ``bot.rules`` holds the contest rules as plain Python
(no discord, no SQL). The local Discord used by tests and the demo is ``discord_emulator``, a
package of its own that nothing here imports.
"""
