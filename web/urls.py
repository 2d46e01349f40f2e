from django.urls import path

from accounts import views as account_views

from . import views

# Sign-in and sign-out keep their plain names ("login", "logout": settings.LOGIN_URL) while the
# rest of accounts' pages live under the "accounts" namespace.
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", account_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", account_views.sign_out, name="logout"),
]
