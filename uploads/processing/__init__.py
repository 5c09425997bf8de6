"""Work on an upload's stored bytes, off the request path, in Celery workers.

    complete ──on_commit──▶ process task ──▶ read once (hash, scan, copy) ──▶ STEPS in order ──▶ done | failed

- `state`: the upload's `processing` field and its conditional changes; `after_complete` queues.
- `pipeline`: the ordered STEPS and the run that reads the object once for them.
- `trust`, `scanner`: the SHA-256 and the malware scan of every upload, whatever its size.
- `images`, `documents`, `media`: what each kind of file yields (metadata, a thumbnail).
- `tasks`: the Celery tasks (process, requeue stalled, scheduled cleanup).
"""
