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


def client_ip(request) -> str | None:
    """The address a request came from. Behind LINLI_PROXY_COUNT trusted proxies (nginx, a load
    balancer) it is the one they name in X-Forwarded-For; without them REMOTE_ADDR (a client could
    write any X-Forwarded-For it likes)."""
    proxies = getattr(settings, "LINLI_PROXY_COUNT", 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
