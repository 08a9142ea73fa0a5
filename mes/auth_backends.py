from django.contrib.auth.backends import ModelBackend

from mes.security import security_is_locked


class LockoutAwareBackend(ModelBackend):
    """The model backend, refusing accounts that are locked after repeated failures."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not security_is_locked(user)
