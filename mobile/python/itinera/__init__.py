"""Itinera's device SDK: the generated UniFFI bindings (itinera/itinera.py, made by build.sh)."""

from .itinera import *  # noqa: F401,F403
