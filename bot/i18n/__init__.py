"""Translations of replies and command strings (English and Simplified Chinese)."""

from bot.i18n.catalog import add_strings
from bot.i18n.translator import AtelierTranslator, pick_locale, t

__all__ = ["AtelierTranslator", "add_strings", "pick_locale", "t"]
