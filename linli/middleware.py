from django.conf import settings


class ChineseFirstMiddleware:
    """Chinese unless the person chose otherwise: the language switch's cookie decides, not the
    browser's Accept-Language (a borrowed phone or an English-set browser still shows Chinese).
    Sits before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
