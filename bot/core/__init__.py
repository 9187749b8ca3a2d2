"""What every feature builds on: the typed client and interaction, services, checks, the command tree, errors, syncing and loading extensions."""
