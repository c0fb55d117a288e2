from django.http import HttpRequest, JsonResponse

from fleetwatch.health import run_probes


def health(request: HttpRequest) -> JsonResponse:
    probes = run_probes()
    healthy = all(p.ok for p in probes)
    body = {
        "status": "ok" if healthy else "unhealthy",
        "checks": {p.name: {"ok": p.ok, "detail": p.detail} for p in probes},
    }
    return JsonResponse(body, status=200 if healthy else 503)
