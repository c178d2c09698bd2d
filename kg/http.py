"""One HTTP client for the project (httpx): timeouts, retries with exponential backoff on 429, 5xx
and network errors (honouring `Retry-After`), no redirect to another host unless allowed, a
descriptive User-Agent, and every failure a KgError naming the URL, the HTTP status and its
reason.

    client = HttpClient(purpose="kg import fmti")
    response = client.request("GET", url)               # whole body in memory
    with client.stream("GET", url) as response:         # large bodies: response.iter_bytes()
        ...

A request is retried only when repeating it is harmless: GET, HEAD, PUT, DELETE and OPTIONS
(idempotent by HTTP's definition), or any method with `idempotent=True` (a SPARQL query sent by
POST, say).

Credentials: `auth=httpx.BasicAuth(...)` sends them with every request; `ChallengeAuth` only when
the server asks for them (a 401 with a Basic or Digest challenge).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import time
import urllib.parse
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass

import httpx

from kg import __version__
from kg.errors import KgError

USER_AGENT = (
    f"genai-openness-kg/{__version__} (knowledge graph of generative-AI openness; "
    "https://w3id.org/genai-openness/)"
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_REDIRECTS = 5
_EXCERPT = 300


class HttpError(KgError):
    """A request that failed. `status` is the HTTP status (None when no answer came), `reason`
    its phrase or the network error, `timed_out` whether the time limit passed."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        reason: str = "",
        timed_out: bool = False,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.reason = reason
        self.timed_out = timed_out


@dataclass(frozen=True)
class Retry:
    """How often and how long to try again: `attempts` in all; the n-th wait is
    `backoff * 2**n` seconds (or the server's Retry-After), never more than `max_wait`."""

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 60.0


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now())


class HttpClient:
    """An httpx client with the project's policy (see the module docstring).

    `allow_hosts` names the hosts a redirect may lead to besides the requested URL's own origin;
    a redirect from https to http is always refused; with `follow_redirects=False` every redirect
    is an error naming its Location. `headers` are sent with every request."""

    def __init__(
        self,
        *,
        purpose: str = "",
        timeout: float = 30.0,
        retry: Retry | None = None,
        allow_hosts: Iterable[str] = (),
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        follow_redirects: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        agent = USER_AGENT if not purpose else USER_AGENT[:-1] + f"; {purpose})"
        self.retry = retry or Retry()
        self.allow_hosts = {h.lower() for h in allow_hosts}
        self.follow_redirects = follow_redirects
        self.requests = 0  # requests sent, retries and redirects included
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": agent, **(headers or {})},
            auth=auth,
        )
        self.timeout = timeout

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
        step: str = "",
    ) -> httpx.Response:
        """Send a request and read the whole answer; a status other than 2xx is an HttpError."""
        with self.stream(
            method, url, content=content, headers=headers, idempotent=idempotent, step=step
        ) as response:
            try:
                response.read()
            except httpx.HTTPError as exc:
                raise self.network_error(step, method, url, exc) from None
            return response

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
        step: str = "",
    ) -> Iterator[httpx.Response]:
        """Send a request and yield the answer with its body not yet read (2xx only)."""
        retrying = method.upper() in IDEMPOTENT if idempotent is None else idempotent
        attempts = self.retry.attempts if retrying else 1
        current = url
        redirects = 0
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            try:
                request = self._client.build_request(
                    method, current, content=content, headers=headers
                )
                self.requests += 1
                response = self._client.send(request, stream=True)
            except UnsupportedChallenge as exc:
                prefix = f"{step}: " if step else ""
                raise HttpError(
                    f"{prefix}{method} {current} asked for credentials this client cannot give "
                    f"({exc}){exc.hint}",
                    url=current,
                    status=401,
                    reason="Unauthorized",
                ) from None
            except httpx.HTTPError as exc:
                error = self.network_error(step, method, current, exc)
                if attempt >= attempts:
                    raise self._after(error, attempt) from None
                wait = self._backoff(attempt)
            else:
                if response.is_redirect:
                    response.close()
                    redirects += 1
                    current = self._redirect(step, method, current, response, redirects)
                    attempt -= 1  # a redirect is not a failed attempt
                    continue
                if response.is_success:
                    try:
                        yield response
                    finally:
                        response.close()
                    return
                error = self._status_error(step, method, current, response)
                if response.status_code not in RETRY_STATUSES or attempt >= attempts:
                    raise self._after(error, attempt) from None
                asked = retry_after(response.headers.get("Retry-After"))
                if asked is not None and asked > self.retry.max_wait:
                    raise HttpError(
                        f"{error}; it asks to retry after {asked:.0f} s, longer than "
                        f"{self.retry.max_wait:g} s: try again later",
                        url=error.url,
                        status=error.status,
                        reason=error.reason,
                    ) from None
                wait = asked if asked is not None else self._backoff(attempt)
            self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return min(self.retry.backoff * 2.0 ** (attempt - 1), self.retry.max_wait)

    def _after(self, error: HttpError, attempts: int) -> HttpError:
        if attempts > 1:
            error.args = (f"{error.args[0]} (after {attempts} attempts)",)
        return error

    def _redirect(
        self, step: str, method: str, url: str, response: httpx.Response, count: int
    ) -> str:
        where: str | None = response.headers.get("Location")
        prefix = f"{step}: " if step else ""
        if not where:
            raise HttpError(
                f"{prefix}{method} {url} answered HTTP {response.status_code} "
                f"{response.reason_phrase} without a Location",
                url=url,
                status=response.status_code,
                reason=response.reason_phrase,
            )
        target = urllib.parse.urljoin(url, where)
        if not self.follow_redirects:
            raise HttpError(
                f"{prefix}{method} {url} answered HTTP {response.status_code} "
                f"{response.reason_phrase}, a redirect to {target}; redirects are not followed "
                "(a POST would arrive as a GET and the extra headers would go to the new "
                "address): give the final URL",
                url=url,
                status=response.status_code,
                reason=response.reason_phrase,
            )
        if count > MAX_REDIRECTS:
            raise HttpError(
                f"{prefix}{method} {url}: more than {MAX_REDIRECTS} redirects",
                url=url,
                status=response.status_code,
                reason=response.reason_phrase,
            )
        if response.status_code in (301, 302, 303) and method.upper() not in ("GET", "HEAD"):
            raise HttpError(
                f"{prefix}{method} {url} answered HTTP {response.status_code} "
                f"{response.reason_phrase}, a redirect to {target}, which would turn the {method} "
                "into a GET: give the final URL",
                url=url,
                status=response.status_code,
                reason=response.reason_phrase,
            )
        old, new = origin(url), origin(target)
        if old[0] == "https" and new[0] != "https":
            why = "from https to plain http"
        elif new[0] not in ("http", "https"):
            why = f"to a {new[0]}: URL"
        elif new != old and new[1] not in self.allow_hosts:
            why = f"to another host ({new[1]}:{new[2]})"
        else:
            return target
        raise HttpError(
            f"{prefix}{method} {url} answered HTTP {response.status_code} "
            f"{response.reason_phrase}, a redirect {why}: {target}; not followed (give the final "
            "URL if you trust it)",
            url=url,
            status=response.status_code,
            reason=response.reason_phrase,
        )

    def _status_error(
        self, step: str, method: str, url: str, response: httpx.Response
    ) -> HttpError:
        try:
            body = response.read().decode("utf-8", "replace")
        except httpx.HTTPError:
            body = ""
        finally:
            response.close()
        text = " ".join(body.split())
        if len(text) > _EXCERPT:
            text = text[:_EXCERPT] + "…"
        prefix = f"{step}: " if step else ""
        return HttpError(
            f"{prefix}{method} {url} answered HTTP {response.status_code} "
            f"{response.reason_phrase}" + (f": {text}" if text else ""),
            url=url,
            status=response.status_code,
            reason=response.reason_phrase,
        )

    def network_error(self, step: str, method: str, url: str, exc: Exception) -> HttpError:
        prefix = f"{step}: " if step else ""
        if isinstance(exc, httpx.TimeoutException):
            return HttpError(
                f"{prefix}{method} {url} did not answer within {self.timeout:g} s",
                url=url,
                reason="timeout",
                timed_out=True,
            )
        if isinstance(exc, httpx.ConnectError):
            return HttpError(
                f"{prefix}cannot reach {url} ({exc or type(exc).__name__}): offline, or the "
                "address is wrong?",
                url=url,
                reason=str(exc),
            )
        return HttpError(
            f"{prefix}{method} {url} failed: {exc or type(exc).__name__}",
            url=url,
            reason=str(exc) or type(exc).__name__,
        )


class UnsupportedChallenge(KgError):
    """A 401 whose challenge (str(self)) is of a scheme ChallengeAuth cannot answer; `hint` is
    appended to the HttpError the client raises."""

    def __init__(self, challenge: str, hint: str = "") -> None:
        super().__init__(challenge)
        self.hint = hint


class ChallengeAuth(httpx.Auth):
    """A user name and password sent only when the server asks for them: a request goes without
    credentials; a 401 with a Digest challenge is answered with Digest (preferred), one with a
    Basic challenge with Basic. Later requests answer at once with the scheme the server asked
    for. A challenge of another scheme (Bearer, say) raises UnsupportedChallenge, which the
    HttpClient reports naming the step, method and URL, followed by `hint`."""

    def __init__(self, user: str, password: str, *, hint: str = "") -> None:
        self._digest = httpx.DigestAuth(user, password)
        self._basic = httpx.BasicAuth(user, password)
        self._scheme: str | None = None
        self.hint = hint

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._scheme == "digest":
            yield from self._digest.auth_flow(request)
            return
        if self._scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        challenges = [c.strip() for c in response.headers.get_list("www-authenticate")]
        schemes = {c.split(None, 1)[0].lower() for c in challenges if c}
        if "digest" in schemes:
            self._scheme = "digest"
            flow = self._digest.auth_flow(request)
            next(flow)  # the request as sent (no challenge known yet)
            answer = yield flow.send(response)
            with contextlib.suppress(StopIteration):
                flow.send(answer)
        elif "basic" in schemes:
            self._scheme = "basic"
            yield from self._basic.auth_flow(request)
        elif challenges:
            raise UnsupportedChallenge(", ".join(challenges), self.hint)
