"""One extension per area of the bot."""
