"""The domain: what Debrief does, with no knowledge of Slack."""
