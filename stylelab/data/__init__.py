"""Data that stylelab builds from offline packages (``stylelab.data.paintings``: the GCompris paintings)."""
