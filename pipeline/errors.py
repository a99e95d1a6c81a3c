"""Errors the user can act on. The CLI prints their message on one line, exit code 2."""


def one_line(message: object) -> str:
    """A user error as printed: one line, whatever the message quotes (column names
    of a malformed CSV, a file path) may contain."""
    return " ".join(str(message).split())


class ComplaintsError(Exception):
    """Base class: a problem with the user's input, files or models, not a bug."""


class InputError(ComplaintsError):
    """An input file or text that cannot be used (unreadable, wrong columns...)."""


class LabelError(ComplaintsError):
    """A training label that is not in the taxonomy."""


class ModelIntegrityError(ComplaintsError):
    """A model folder whose files do not match the SHA-256 recorded in its model card."""


class ModelNotFoundError(ComplaintsError):
    """No trained model where one was expected."""


class StorageError(ComplaintsError):
    """An output folder that cannot be written: full disk, read-only, no permission."""


class ModelFormatError(ComplaintsError):
    """A model saved by an older version of this tool, whose inputs no longer match."""
