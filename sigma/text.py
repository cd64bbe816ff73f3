"""Deprecated: moved to `sigma.tasks.text`."""

from sigma._moved import alias

alias(__name__, "sigma.tasks.text")
