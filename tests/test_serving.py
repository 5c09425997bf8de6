"""How a stored file is served and who may read it (uploads/serving.py): pure functions, no database, no store."""

import uuid

from uploads.serving import acl_for

UPLOAD_ID = uuid.UUID("6f1c1d4e-9a43-4c55-a1c4-1f1f6f0f5b5b")


def test_private_objects_get_the_configured_acl_and_public_ones_public_read(settings):
    settings.UPLOADS_PRIVATE_ACL = ""  # a bucket with ACLs disabled

    assert (acl_for(False), acl_for(True)) == ("", "public-read")
