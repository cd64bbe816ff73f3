"""Deprecated: moved to `sigma.tasks.maze`."""

from sigma._moved import alias

alias(__name__, "sigma.tasks.maze")
