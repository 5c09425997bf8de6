"""Upload rows by the million, in SQL (`INSERT … SELECT generate_series`): minutes, not an ORM loop.

PostgreSQL only. Rows look like real ones: mostly complete, some pending and failed, four types,
names with a random part (so trigram search has something to tell apart), one a second back in time.
The benchmarks and the plan tests (tests/test_plans.py) build their data with it.
"""

from __future__ import annotations

INSERT_UPLOADS = """
INSERT INTO uploads_upload (
    id, owner_id, file, original_filename, content_type, max_size, expected_size, size, etag,
    public, status, created_at, completed_at, expires_at, multipart_upload_id, part_size,
    create_signed_at, failure_code, failure_reason, for_field{extra_columns}
)
SELECT
    id, %(owner_id)s, 'uploads/' || id || '/' || name, name, content_type, 1000000, NULL,
    CASE WHEN status = 'complete' THEN 1 + (g::bigint * 7919) %% 1000000 END,
    CASE WHEN status = 'complete' THEN md5(id::text) ELSE '' END,
    false, status, created_at,
    CASE WHEN status = 'complete' THEN created_at + interval '2 seconds' END,
    created_at + interval '10 minutes', '', NULL, NULL,
    CASE WHEN status = 'failed' THEN 'object_missing' ELSE '' END, '', ''{extra_values}
FROM (
    SELECT
        g,
        md5(%(tag)s || ':' || g)::uuid AS id,
        (ARRAY['photo', 'report', 'clip', 'notes'])[g %% 4 + 1] || '-' || substr(md5(g::text), 1, 10)
            || (ARRAY['.png', '.pdf', '.mp4', '.txt'])[g %% 4 + 1] AS name,
        (ARRAY['image/png', 'application/pdf', 'video/mp4', 'text/plain'])[g %% 4 + 1] AS content_type,
        CASE WHEN g %% 50 = 0 THEN 'pending' WHEN g %% 100 = 1 THEN 'failed' ELSE 'complete' END AS status,
        now() - (g * interval '1 second') AS created_at
    FROM generate_series(%(first)s, %(last)s) AS g
) AS rows
"""


# Columns later versions added, with the value each row gets when the table has them.
LATER_COLUMNS = {
    "processing": "'none'",
    "processing_error": "''",
    "metadata": "'{}'::jsonb",
    "declared_sha256": "''",
    "checksum_sha256": "''",
    "scan": "'clean'",
    "declared_part_sha256": "'{}'::jsonb",
}


def insert_uploads(cursor, *, owner_id: int | None, count: int, tag: str, first: int = 1) -> None:
    """Insert `count` uploads of `owner_id` (None: no owner); `tag` keeps ids apart between calls."""
    cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'uploads_upload'")
    present = {name for (name,) in cursor.fetchall()}
    later = {name: value for name, value in LATER_COLUMNS.items() if name in present}
    sql = INSERT_UPLOADS.format(
        extra_columns="".join(f", {name}" for name in later),
        extra_values="".join(f", {value}" for value in later.values()),
    )
    cursor.execute(sql, {"owner_id": owner_id, "tag": tag, "first": first, "last": first + count - 1})


def insert_users(cursor, *, prefix: str, count: int) -> None:
    """Insert `count` users named `<prefix>-<n>` (no password: they are only owners)."""
    cursor.execute(
        """
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                               is_staff, is_active, date_joined)
        SELECT '!', false, %(prefix)s || '-' || g, '', '', '', false, true, now()
        FROM generate_series(1, %(count)s) AS g
        ON CONFLICT (username) DO NOTHING
        """,
        {"prefix": prefix, "count": count},
    )


def spread_uploads(cursor, *, prefix: str, users: int, per_user: int, tag: str) -> None:
    """Give each of the `users` users named `<prefix>-<n>` `per_user` uploads, in one statement a user."""
    cursor.execute("SELECT id FROM auth_user WHERE username LIKE %s ORDER BY id", [f"{prefix}-%"])
    for index, (user_id,) in enumerate(cursor.fetchall()[:users]):
        insert_uploads(cursor, owner_id=user_id, count=per_user, tag=f"{tag}-{index}")
