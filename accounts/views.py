import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from linli.errors import TooManyAttempts
from linli.pages import page
from linli.paging import keyset

from . import access, services
from .forms import AccessLogFilter, SignInForm

PAGE_SIZE = 50


def locked_out(request, response=None, credentials=None):
    """The answer to a sign-in while its user name or address is locked (django-axes): the
    sign-in page (or the API's error) saying when to try again, 429 with Retry-After."""
    minutes = settings.LINLI_LOGIN_LOCK_MINUTES
    until = timezone.localtime(timezone.now() + dt.timedelta(minutes=minutes))
    error = TooManyAttempts(minutes, until)
    if request.path.startswith("/api/"):
        answer = JsonResponse(error.as_dict(), status=429, json_dumps_params={"ensure_ascii": False})
    else:
        form = SignInForm(request, data=request.POST or None)
        form.errors.clear()
        form.add_error(None, error.text())
        answer = render(request, "accounts/login.html", {"form": form, "next": request.POST.get("next", "")}, status=429)
    answer["Retry-After"] = str(minutes * 60)
    return answer


@page("accounts.unlock")
def locked(request):
    """Sign-ins locked after too many wrong passwords, and their unlocking."""
    if request.method == "POST":
        done = services.unlock(request.user, request.POST.get("attempt"))
        if done:
            messages.success(request, _("%(who)s can sign in again.") % {"who": done})
        return redirect("accounts:locked")
    return render(request, "accounts/locked.html", {"rows": access.locked_sign_ins(), "minutes": settings.LINLI_LOGIN_LOCK_MINUTES})


class SignInView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


sign_out = LogoutView.as_view()  # POST only; then back to the sign-in page


def _day_start(day: dt.date):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@page("accounts.view_access_log")
def access_log(request):
    """Reveals of personal data inside the viewer's area, newest first, in keyset pages."""
    form = AccessLogFilter(request.GET or None)
    qs = access.access_log(request.user)
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
        page_ = keyset(qs, after=data.get("before"), limit=PAGE_SIZE, order=("-id",))
        rows, next_before = page_.items, page_.next_after
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
