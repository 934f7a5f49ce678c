"""The one domain error type: a broken rule, with a message meant for the user."""


class RuleViolation(Exception):
    """A service refused an action; ``message`` says why in words a user understands."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


class NotAllowed(RuleViolation):
    """The acting user may not do this to this object."""

    def __init__(self, message="You are not allowed to do this."):
        super().__init__(message, status=403)


class NotFound(RuleViolation):
    """The object does not exist (or is not visible to the acting user)."""

    def __init__(self, message="Not found."):
        super().__init__(message, status=404)
