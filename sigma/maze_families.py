"""Deprecated: moved to `sigma.tasks.maze.families`."""

from sigma._moved import alias

alias(__name__, "sigma.tasks.maze.families")
