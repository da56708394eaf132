"""The one exception type the CLI and the studio turn into a single clear line for the user."""


class UserError(Exception):
    """Bad input from the user (file, model, parameter): the message is shown as it is, with no
    traceback."""
