"""Per-page changes to the Content Security Policy (settings.SECURE_CSP)."""

from urllib.parse import urlsplit

from django.conf import settings


def allow_form_action(response, *urls: str):
    """Let this page's forms lead to the origins of `urls`: a form posted to us whose answer
    redirects there (the hand-off to a publisher's portal) is otherwise stopped by the
    browser under `form-action 'self'`, which covers redirects too."""
    origins = sorted(
        {
            f"{part.scheme}://{part.netloc}"
            for part in map(urlsplit, urls)
            if part.scheme in ("http", "https") and part.netloc
        }
    )
    config = getattr(response, "_csp_config", None) or settings.SECURE_CSP
    response._csp_config = {**config, "form-action": [*config.get("form-action", []), *origins]}
    return response
