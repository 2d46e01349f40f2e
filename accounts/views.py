import datetime as dt

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from .access import scoped
from .forms import AccessLogFilter, SignInForm
from .models import PersonalDataAccess, Role

PAGE_SIZE = 50
# Only the roles that carry accounts.view_access_log widen the log's scope.
LOG_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_OFFICER}


class SignInView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


sign_out = LogoutView.as_view()  # POST only; then back to the sign-in page


def _day_start(day: dt.date):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@login_required
def access_log(request):
    """Reveals of personal data inside the viewer's area, newest first, in keyset pages."""
    if not request.user.has_perm("accounts.view_access_log"):
        raise PermissionDenied
    form = AccessLogFilter(request.GET or None)
    qs = scoped(PersonalDataAccess.objects.select_related("user", "resident", "organization"), request.user, roles_=LOG_ROLES)
    rows, next_before = [], None
    if form.is_bound and not form.is_valid():
        pass  # the errors show on the form; no rows for a filter we could not read
    else:
        data = form.cleaned_data if form.is_bound else {}
        who = (data.get("user") or "").strip()
        if who:
            qs = qs.filter(Q(user__username__iexact=who) | Q(user__display_name__startswith=who) | Q(user__username__startswith=who))
        if data.get("date_from"):
            qs = qs.filter(at__gte=_day_start(data["date_from"]))
        if data.get("date_to"):
            qs = qs.filter(at__lt=_day_start(data["date_to"] + dt.timedelta(days=1)))
        if data.get("before"):
            qs = qs.filter(pk__lt=data["before"])
        rows = list(qs.order_by("-pk")[: PAGE_SIZE + 1])
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            next_before = rows[-1].pk
    keep = {k: v for k, v in request.GET.items() if k in ("user", "date_from", "date_to") and v}
    return render(
        request,
        "accounts/access_log.html",
        {
            "form": form,
            "rows": rows,
            "next_url": "?" + urlencode({**keep, "before": next_before}) if next_before else None,
            "first_url": "?" + urlencode(keep) if request.GET.get("before") else None,
        },
    )
