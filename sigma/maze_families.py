"""Deprecated: moved to `sigma.tasks.maze_families`."""

from sigma._moved import alias

alias(__name__, "sigma.tasks.maze_families")
