"""What people type, made safe to store, compare and print: one home for text and e-mail rules.

Names and addresses end up on invoices and in e-mails, and a name is compared with the
others ("Contoso HQ" is taken): so every text field a form takes is Unicode NFC, has its
whitespace collapsed to single spaces (a non-breaking space is a space), and refuses control
characters (CR and LF included; a multi-line field keeps its line breaks) with a field error.
E-mail addresses are at most 254 characters and never name an IP address for a domain.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path, the same for every e-mail field

# Bidirectional embeddings, overrides and isolates: they reorder what a reader sees.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS


def normalise_text(value: str, *, multiline: bool = False) -> str:
    """NFC, whitespace collapsed; ValidationError when a control character is in it."""
    value = unicodedata.normalize("NFC", value)
    lines = value.replace("\r\n", "\n").split("\n") if multiline else [value]
    if any(_is_control(char) for line in lines for char in line):
        raise ValidationError(
            "Remove the control characters (such as line breaks or tabs) from this text.",
            code="control_characters",
        )
    return "\n".join(" ".join(line.split()) for line in lines).strip()


_IP_LITERAL = re.compile(r"@\[.*\]$")


def validate_email_address(value: str) -> None:
    """An e-mail address people can be written to: valid, at most 254 characters, a domain
    name (not an IP literal such as `someone@[192.0.2.1]`)."""
    if len(value) > EMAIL_MAX_LENGTH:
        raise ValidationError(
            f"An e-mail address has at most {EMAIL_MAX_LENGTH} characters.", code="email_length"
        )
    if _IP_LITERAL.search(value):
        raise ValidationError(
            "Use an address with a domain name, not an IP address.", code="email_ip_literal"
        )
    validate_email(value)
