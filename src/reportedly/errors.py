"""Errors a user can act on. Interfaces print ``str(error)`` as one line and exit non-zero."""

from __future__ import annotations


class ReportedlyError(Exception):
    """Base for every error reportedly raises on purpose."""

    exit_code = 2


class InputError(ReportedlyError):
    """The input cannot be analysed as an English news article (empty, binary, too big, ...)."""


class EmptyInputError(InputError):
    pass


class BinaryInputError(InputError):
    pass


class InputTooLargeError(InputError):
    pass


class EncodingError(InputError):
    pass


class NoArticleBodyError(InputError):
    pass


class NotEnglishError(InputError):
    pass


class ModelNotFoundError(ReportedlyError):
    exit_code = 3


class ConfigError(ReportedlyError):
    """A setting (an environment variable or an option) has a value reportedly cannot use."""
