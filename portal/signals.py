"""Signals the portal sends so other apps can follow its changes without being imported here.

`member_removed(membership=..., actor=...)`: sent inside `member_remove`'s transaction, just
before the membership row is deleted; `actor` is who removed them.
"""

from django.dispatch import Signal

member_removed = Signal()
