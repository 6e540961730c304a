"""Domain errors: raised by services, shown to the person as a clear message, never a 500."""


class DomainError(Exception):
    """A rule of the domain refused the change. ``str(error)`` is fit to show to the user."""

    default_message = "This change is not allowed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class OtherTenant(DomainError):
    """A service was handed an object of another organisation than the one it acts in."""

    default_message = "This belongs to another organisation."
