"""One PromptChecker for the whole safety test session (profanity-check's model takes seconds to read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.safety.checker import PromptChecker

DATA = Path(__file__).resolve().parents[2] / "data" / "safety"


@pytest.fixture(scope="session")
def checker() -> PromptChecker:
    return PromptChecker()
