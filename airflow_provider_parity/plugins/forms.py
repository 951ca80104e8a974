"""The view's one write: a rollback posted from the model page, safe against cross-site requests.

The POST is behind Airflow's authentication like every route of the plugin (``get_user``: the
UI's JWT cookie or a bearer token). A cookie also rides along on a request another site makes
the browser send, so the form carries a token only this page can show: an HMAC of the user and
the model under the api-server's JWT secret (``[api_auth] jwt_secret``), which a cross-site page
cannot read. A request whose ``Origin`` names another host is refused before that.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _secret() -> bytes:
    from airflow.configuration import conf

    return str(conf.get("api_auth", "jwt_secret", fallback="") or "").encode()


def user_name(user: Any) -> str:
    """The Airflow user's name (``get_user``'s ``BaseUser``)."""
    getter = getattr(user, "get_name", None)
    return str(getter() if callable(getter) else user or "unknown")


def form_token(user: str, model: str, secret: bytes | None = None) -> str | None:
    """The rollback form's token for ``user`` on ``model`` (None: no secret configured, no form)."""
    key = _secret() if secret is None else secret
    if not key:
        return None
    return hmac.new(key, f"rollback\0{user}\0{model}".encode(), hashlib.sha256).hexdigest()


def check_post(headers: Any, body: bytes, *, user: str, model: str, secret: bytes | None = None) -> dict[str, str]:
    """The posted form's fields, once the request is shown to come from the model page.

    Raises:
        PermissionError: another origin, or a missing or wrong token.
    """
    origin = headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != headers.get("host"):
        raise PermissionError(f"cross-origin request from {origin}")
    fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    expected = form_token(user, model, secret)
    if expected is None or not hmac.compare_digest(fields.get("token", ""), expected):
        raise PermissionError("the form's token does not match: reload the model page and post again")
    return fields
