"""Community challenges: themes, entries from generated work, blind voting, judges, leaderboards."""
