"""The `atelier` command line: run jobs without Discord, operate workers and the database."""
