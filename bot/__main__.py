"""`python -m bot`: run the Discord bot (the same as `atelier bot`)."""

from bot.cli.discord_cmds import bot_command

if __name__ == "__main__":
    bot_command()
