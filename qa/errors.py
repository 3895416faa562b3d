"""Errors a user can fix. Each message names the bad value and the fix."""

from __future__ import annotations


class QAError(Exception):
    """Base class for every error a user can act on (bad corpus, damaged index, bad input file)."""


class CorpusError(QAError):
    """The corpus folder is missing, empty, or holds nothing readable."""


class IndexUnavailableError(QAError):
    """The index folder is missing, damaged, stale beyond repair, or locked."""


class IndexCorruptError(IndexUnavailableError):
    """An index artifact failed its checksum or does not match the manifest."""


class IndexLockedError(IndexUnavailableError):
    """Another build holds the index lock."""


class IndexWriteError(QAError):
    """The index folder cannot be written (read-only, full); the current version is untouched."""


class QuestionSetError(QAError):
    """An evaluation question file is malformed (names the line and the field)."""
