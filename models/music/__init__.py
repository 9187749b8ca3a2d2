"""Atelier's symbolic music model: a compact note-token transformer trained on music21's folk corpus."""
