"""What a cleanup run did (or, in a dry run, would do): the counts `cleanup_uploads` prints."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CleanupReport:
    """What a cleanup run did (or, in a dry run, would do)."""

    dry_run: bool = False
    completed: int = 0  # pending, but the file had arrived: completed now
    failed: int = 0  # pending, and the file never arrived or broke the rules
    skipped: int = 0  # locked or finished meanwhile by another run
    orphans_deleted: int = 0
    deletes_finished: int = 0  # deletes a crash or an outage interrupted
    gone: int = 0  # complete, but the object is gone: marked failed (--verify)
    replaced: int = 0  # complete, but the object's ETag changed: reported only (--verify)
    checksum_stale: int = 0  # of those, ones whose SHA-256 was recorded: it no longer describes them
    thumbnails_missing: int = 0  # complete, but the thumbnail is gone: processed again (--verify)
    verified: bool = False
    multipart_aborted: int = 0
    swept: int = 0  # folders of uploads failed or deleted before their policy died
    abandoned_deleted: int = 0  # made through an UploadField's widget, but no record took them
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        would = "would be " if self.dry_run else ""
        return (
            f"{'Dry run: ' if self.dry_run else ''}{self.completed} stale uploads {would}completed, "
            f"{self.failed} {would}marked failed, {self.orphans_deleted} orphan objects {would}deleted, "
            f"{self.deletes_finished} interrupted deletes {would}finished, "
            f"{self.multipart_aborted} multipart uploads {would}aborted, "
            f"{self.abandoned_deleted} field uploads no record took {would}deleted, {self.skipped} skipped, "
            f"{self.swept} folders of dead policies {would}swept, "
            + (
                f"{self.gone} complete uploads whose file is gone {would}marked failed, "
                f"{self.replaced} whose file was replaced "
                f"({self.checksum_stale} changed since their SHA-256 was recorded), "
                f"{self.thumbnails_missing} whose thumbnail is gone {would}processed again, "
                if self.verified
                else ""
            )
            + f"{len(self.errors)} errors."
        )

    def add_refused(self, keys: list[str]) -> None:
        self.errors += [f"S3 refused to delete {key}" for key in keys]
