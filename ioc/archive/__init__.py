"""The history archive: every batch and alert transition copied from Redis to day/feed-partitioned Parquet."""

from ioc.archive.archiver import Archiver, start_archiver
from ioc.archive.files import KINDS, apply_retention
from ioc.archive.query import history
from ioc.archive.settings import ArchiveSettings, archive_dir, load_archive_settings

__all__ = ["KINDS", "ArchiveSettings", "Archiver", "apply_retention", "archive_dir", "history",
           "load_archive_settings", "start_archiver"]
