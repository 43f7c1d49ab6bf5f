"""Block Kit builders: pure functions, data in, slack_sdk.models out."""
