"""Where progress-report attachments live: outside MEDIA_ROOT, so only the permission-checked view serves them."""

import os
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils import timezone
from django.utils.deconstruct import deconstructible


@deconstructible
class PrivateStorage(FileSystemStorage):
    """``settings.PRIVATE_MEDIA_ROOT``, read when used (not at import) so tests can point it elsewhere."""

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def attachment_path(instance, filename: str) -> str:
    """A random name keeps the stored path unguessable and free of the uploader's characters."""
    ext = os.path.splitext(filename)[1].lower()[:10]
    return timezone.now().strftime(f"attachments/%Y/%m/{uuid.uuid4().hex}{ext}")
