import http_calls
import pytest
from _bench import run


def test_fetch_text_decodes(base_url):
    assert run(http_calls.fetch_text(base_url + "/hello")) == "héllo wörld"


def test_fetch_json_document(base_url):
    assert run(http_calls.fetch_json(base_url + "/items/4")) == {
        "id": 4, "name": "item4", "price": 6.0}
    assert run(http_calls.fetch_json(base_url + "/users"))[1]["name"] == "alan"


def test_fetch_json_via_async_caller(base_url):
    assert run(http_calls.names_of_users(base_url)) == ["ada", "alan"]
    assert http_calls.fetch_json is not None


def test_status_of_codes(base_url):
    assert run(http_calls.status_of(base_url + "/hello")) == 200
    assert run(http_calls.status_of(base_url + "/missing")) == 404
    assert run(http_calls.status_of(base_url + "/boom")) == 500


def test_status_of_via_async_caller(base_url):
    assert run(http_calls.statuses(base_url, ["/hello", "/missing"])) == [200, 404]
    assert http_calls.status_of is not None


def test_post_json_roundtrip(base_url):
    answer = run(http_calls.post_json(base_url + "/anything", {"a": [1, "ü"]}))
    assert answer == {"received": {"a": [1, "ü"]}, "type": "application/json"}


def test_total_price_sums(base_url):
    assert run(http_calls.total_price(base_url, [1, 2, 3])) == pytest.approx(9.0)
    assert run(http_calls.total_price(base_url, [])) == 0.0


def test_greetinglength(base_url):
    assert run(http_calls.greeting_length(base_url)) == 11
