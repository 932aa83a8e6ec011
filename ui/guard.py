"""HTTP rules Streamlit's own settings cannot express, as one ASGI middleware (see serve.py).

Streamlit 1.67 has no setting to switch off `/_stcore/metrics`, to accept uploads only from
signed-in sessions, or to send anti-framing headers, but its `st.App` takes middleware:

- `/_stcore/metrics` answers 404 (cache names and session counts are nobody's business);
- when access control is on, `PUT /_stcore/upload_file/<session>/<id>` answers 403, before a byte
  of the body is read, unless that session's signed-in user may upload (analyst or admin);
- every response says `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors 'none'`
  (no other site can frame the dashboard), `X-Content-Type-Options: nosniff` and
  `Referrer-Policy: same-origin`.
"""

import logging

from streamlit.runtime import Runtime

from ui import auth
from ui.users import ROLES

UPLOAD_PATH = "/_stcore/upload_file/"
METRICS_PATH = "/_stcore/metrics"
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
_LOGGER = logging.getLogger(__name__)


def session_may_upload(session_id: str) -> bool:
    """True if access control is off, or the Streamlit session `session_id` has a signed-in user who
    may upload. Fails closed: any doubt (unknown session, no user, an error) is a no."""
    try:
        if auth.auth_mode() == "off":
            return True
        info = Runtime.instance()._session_mgr.get_active_session_info(session_id)
        if info is None:
            return False
        state = info.session.session_state
        user = state[auth.SESSION_KEY] if auth.SESSION_KEY in state else None
        return user is not None and getattr(user, "role", "") in ROLES and user.can("upload")
    except Exception:  # noqa: BLE001 - a guard that errs refuses
        _LOGGER.exception("upload check failed; refused")
        return False


class AccessGuard:
    """ASGI middleware: the rules above, in front of Streamlit's own routes."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/").endswith(METRICS_PATH):
            await _plain(send, 404, b"Not found")
            return
        if UPLOAD_PATH in path and scope.get("method") in ("PUT", "POST"):
            session_id = path.split(UPLOAD_PATH, 1)[1].split("/", 1)[0]
            if not session_may_upload(session_id):
                await _plain(send, 403, "Sign in as an analyst to upload files. / 请以分析师身份登录后再上传文件。".encode())
                return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in SECURITY_HEADERS if h[0] not in present)]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _plain(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
