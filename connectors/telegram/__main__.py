"""``python -m connectors.telegram``: register the webhook and check the bot's connection.

Commands:

- ``set-webhook [--url URL] [--drop-pending-updates]``: tell Telegram where to post
  updates (``TELEGRAM_WEBHOOK_URL`` by default, which must be the public HTTPS
  address of ``/webhooks/telegram/webhook``) with the secret token
  (``TELEGRAM_SECRET_TOKEN``) and the update kinds the channel handles.
- ``info``: show the bot's user name and Telegram's view of the webhook (the URL,
  pending updates and the last delivery error), which is how to check the connection.
- ``delete-webhook``: stop deliveries.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from telegram.error import TelegramError

from connectors.telegram.bot import ALLOWED_UPDATES, TelegramSettings, make_bot

__all__ = ["delete_webhook", "main", "set_webhook", "webhook_info"]


async def set_webhook(settings: TelegramSettings, url: str, drop_pending: bool) -> str:
    """Register ``url`` as the webhook; return a line to print."""
    async with make_bot(settings) as bot:
        await bot.set_webhook(
            url=url,
            secret_token=settings.secret_token,
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=drop_pending,
        )
        return f"webhook of @{bot.username} set to {url}"


async def webhook_info(settings: TelegramSettings) -> str:
    """Describe the bot and its webhook as Telegram sees them."""
    async with make_bot(settings) as bot:
        info = await bot.get_webhook_info()
        lines = [
            f"bot: @{bot.username} (id {bot.id})",
            f"webhook url: {info.url or '(none)'}",
            f"pending updates: {info.pending_update_count}",
        ]
        if info.last_error_message:
            lines.append(f"last error: {info.last_error_message} at {info.last_error_date}")
        return "\n".join(lines)


async def delete_webhook(settings: TelegramSettings) -> str:
    """Remove the webhook."""
    async with make_bot(settings) as bot:
        await bot.delete_webhook()
        return f"webhook of @{bot.username} removed"


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m connectors.telegram", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    setter = commands.add_parser("set-webhook", help="register the webhook with Telegram")
    setter.add_argument("--url", help="public HTTPS URL (default: TELEGRAM_WEBHOOK_URL)")
    setter.add_argument("--drop-pending-updates", action="store_true")
    commands.add_parser("info", help="show the bot and its webhook")
    commands.add_parser("delete-webhook", help="stop webhook deliveries")
    args = parser.parse_args(argv)
    settings = TelegramSettings.from_env()
    missing = (
        settings.missing
        if args.command == "set-webhook"
        else ([] if settings.bot_token else ["TELEGRAM_BOT_TOKEN"])
    )
    if missing:
        print(f"error: set {' and '.join(missing)} first", file=sys.stderr)
        return 2
    try:
        if args.command == "set-webhook":
            url = args.url or settings.webhook_url
            if not url:
                print("error: pass --url or set TELEGRAM_WEBHOOK_URL", file=sys.stderr)
                return 2
            print(asyncio.run(set_webhook(settings, url, args.drop_pending_updates)))
        elif args.command == "info":
            print(asyncio.run(webhook_info(settings)))
        else:
            print(asyncio.run(delete_webhook(settings)))
    except TelegramError as error:
        print(f"error: Telegram refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
