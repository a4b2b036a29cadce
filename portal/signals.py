"""What portal tells the apps that build on it; portal never imports them.

`member_removed` is sent inside `member_remove`'s transaction, before the membership row is
deleted, with the person who removed them (`actor`), so what other apps undo for a departing
member (billing drops their profile roles) is recorded as done by that person.
"""

from django.dispatch import Signal

member_removed = Signal()  # sender=Membership; membership, actor
