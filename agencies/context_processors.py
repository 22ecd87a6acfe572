from django.utils.functional import SimpleLazyObject

from .roles import can_write, sees_all_tasks


def roles(request):
    """``role.supervisor`` / ``role.lead_bureau`` for templates (navigation), from the one role policy."""
    user = getattr(request, "user", None)

    def compute():
        return {"supervisor": sees_all_tasks(user), "lead_bureau": can_write(user)}

    return {"role": SimpleLazyObject(compute)}
