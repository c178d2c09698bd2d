"""kg.http, the project's one HTTP client, against a real HTTP server on a free loopback port:
retries with backoff on 429/5xx and network errors (Retry-After honoured), no redirect to
another host, a descriptive User-Agent, and errors that name the URL, status and reason."""

from __future__ import annotations

import email.utils
import time

import pytest

from conftest import free_port
from kg.http import ChallengeAuth, HttpClient, HttpError, Retry, retry_after
from webfixture import Answer, web_server


def _client(waits: list[float] | None = None, **kw) -> HttpClient:
    record = waits.append if waits is not None else lambda _s: None
    return HttpClient(
        purpose="tests", retry=Retry(attempts=3, backoff=0.25), sleep=record, timeout=5, **kw
    )


def test_get_sends_a_descriptive_user_agent():
    with web_server({"/a": Answer(b"hello")}) as web, _client() as client:
        assert client.request("GET", web.url + "/a").content == b"hello"
    agent = web.requests[0][2]["User-Agent"]
    assert agent.startswith("genai-openness-kg/") and "tests" in agent


def test_retries_5xx_with_exponential_backoff():
    waits: list[float] = []
    with web_server({"/a": Answer(b"ok", fail=2, fail_status=502)}) as web:
        with _client(waits) as client:
            assert client.request("GET", web.url + "/a").content == b"ok"
        assert web.count("/a") == 3
    assert waits == [0.25, 0.5]


def test_retry_after_is_honoured_in_seconds_and_as_a_date():
    waits: list[float] = []
    answer = Answer(b"ok", fail=1, fail_status=429, retry_after="2")
    with web_server({"/a": answer}) as web, _client(waits) as client:
        client.request("GET", web.url + "/a")
    assert waits == [2.0]
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= retry_after(later) <= 30


def test_a_retry_after_too_long_is_an_error_not_a_wait():
    waits: list[float] = []
    answer = Answer(b"ok", fail=1, fail_status=503, retry_after="3600")
    with web_server({"/a": answer}) as web, _client(waits) as c, pytest.raises(HttpError) as info:
        c.request("GET", web.url + "/a")
    assert waits == []
    assert "HTTP 503 Service Unavailable" in str(info.value)
    assert "retry after 3600 s" in str(info.value)


def test_errors_name_url_status_and_reason_after_the_retries():
    with web_server({"/a": Answer(b"", fail=10, fail_status=500)}) as web:
        with _client() as client, pytest.raises(HttpError) as info:
            client.request("GET", web.url + "/a", step="fetch")
        assert web.count("/a") == 3
    error = info.value
    assert (error.status, error.reason, error.url) == (500, "Internal Server Error", web.url + "/a")
    assert str(error).startswith(f"fetch: GET {web.url}/a answered HTTP 500 Internal Server Error")
    assert "try later" in str(error) and "(after 3 attempts)" in str(error)


def test_404_is_not_retried():
    with web_server({}) as web, _client() as client, pytest.raises(HttpError) as info:
        client.request("GET", web.url + "/missing")
    assert web.count("/missing") == 1
    assert info.value.status == 404 and "HTTP 404 Not Found" in str(info.value)


def test_a_post_is_not_retried_unless_idempotent():
    with web_server({"/q": Answer(b"ok", fail=1)}) as web, _client() as client:
        with pytest.raises(HttpError):
            client.request("POST", web.url + "/q", content=b"x")
        web.routes["/q"].fail = 1
        assert client.request("POST", web.url + "/q", content=b"x", idempotent=True).is_success


def test_offline_is_a_clear_error_after_retries():
    waits: list[float] = []
    url = f"http://127.0.0.1:{free_port()}/x"
    with _client(waits) as client, pytest.raises(HttpError) as info:
        client.request("GET", url)
    assert f"cannot reach {url}" in str(info.value) and "offline" in str(info.value)
    assert info.value.status is None and waits == [0.25, 0.5]


def test_redirects_stay_on_the_same_origin_unless_allowed():
    with web_server() as other, web_server() as web:
        other.routes["/b"] = Answer(b"elsewhere")
        web.routes["/same"] = Answer(status=302, headers={"Location": "/final"})
        web.routes["/final"] = Answer(b"here")
        web.routes["/away"] = Answer(status=302, headers={"Location": other.url + "/b"})
        with _client() as client:
            assert client.request("GET", web.url + "/same").content == b"here"
            with pytest.raises(HttpError) as info:
                client.request("GET", web.url + "/away")
        assert "a redirect to another host (127.0.0.1:" in str(info.value)
        assert other.count("/b") == 0
        # the other host here differs by port only: allowing "localhost" does not open it
        web.routes["/away2"] = Answer(
            status=302, headers={"Location": other.url.replace("127.0.0.1", "localhost") + "/b"}
        )
        with _client(allow_hosts=["localhost"]) as client:
            assert client.request("GET", web.url + "/away2").content == b"elsewhere"


def test_a_redirect_of_a_post_is_refused():
    answer = Answer(status=302, headers={"Location": "/v"})
    with web_server({"/u": answer}) as web, _client() as client, pytest.raises(HttpError) as info:
        client.request("POST", web.url + "/u", content=b"x")
    assert "would turn the POST into a GET" in str(info.value)


def test_timeout_names_the_limit():
    with web_server({"/slow": Answer(b"late", delay=2)}) as web:
        client = HttpClient(retry=Retry(attempts=1), timeout=0.3)
        with client, pytest.raises(HttpError) as info:
            client.request("GET", web.url + "/slow")
    assert info.value.timed_out and "did not answer within 0.3 s" in str(info.value)


def test_challenge_auth_answers_a_basic_challenge_and_then_sends_basic_at_once():
    challenge = Answer(b"who?", status=401, headers={"WWW-Authenticate": 'Basic realm="kg"'})
    auth = ChallengeAuth("alice", "s3cret")
    with web_server({"/a": challenge}) as web, _client(auth=auth) as client:
        for _ in range(2):
            with pytest.raises(HttpError, match="HTTP 401"):
                client.request("GET", web.url + "/a")
    sent = [headers.get("Authorization") for _, _, headers in web.requests]
    # nothing before the challenge, Basic in answer to it, then Basic at once (401 is not retried)
    assert sent == [None, "Basic YWxpY2U6czNjcmV0", "Basic YWxpY2U6czNjcmV0"]


def test_challenge_auth_reports_a_scheme_it_cannot_answer():
    challenge = Answer(status=401, headers={"WWW-Authenticate": 'Bearer realm="kg"'})
    auth = ChallengeAuth("alice", "s3cret", hint="; use a token")
    with (
        web_server({"/a": challenge}) as web,
        _client(auth=auth) as client,
        pytest.raises(HttpError) as caught,
    ):
        client.request("GET", web.url + "/a", step="fetch")
    assert str(caught.value) == (
        f'fetch: GET {web.url}/a asked for credentials this client cannot give (Bearer realm="kg")'
        "; use a token"
    )
    assert caught.value.status == 401 and web.count("/a") == 1
