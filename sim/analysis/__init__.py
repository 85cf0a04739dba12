"""Timelines and metrics computed from event logs."""
