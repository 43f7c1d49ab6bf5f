"""Errors whose message is written for the person who caused them."""


class UserError(ValueError):
    """Bad input: shown to the person as it is; nothing was changed."""
