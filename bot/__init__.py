"""Debrief: a Slack app that helps teams learn from their work."""
