"""The JSON API under /api/: typed Ninja routers, thin operations over the services.

`router` (uploads: presign, complete, url, delete, parts, sign), `fields` (the start for an
UploadField's widget), their `schemas` and `auth` (session or token, `PerUserRateLimit`).
Typed service errors become HTTP here (`answers.ERROR_STATUS`), and the schema names them per
operation (`openapi`); `project/api.py` mounts them.
"""
