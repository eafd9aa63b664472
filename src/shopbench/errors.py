"""The one exception type shopbench raises for bad input: a message a user can act on."""


class ShopbenchError(Exception):
    """Bad input (config, data or model): the message names the problem and the fix."""
