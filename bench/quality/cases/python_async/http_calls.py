"""Functions that talk HTTP with urllib.request (to the tests' local server)."""

import json
import urllib.error
import urllib.request


def fetch_text(url):
    """The body of a GET, decoded with the charset the server names (UTF-8 by default)."""
    with urllib.request.urlopen(url, timeout=5) as response:
        charset = response.headers.get_content_charset() or "utf-8"
        return response.read().decode(charset)


def fetch_json(url):
    """The JSON document a GET returns."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def status_of(url):
    """The HTTP status of a GET, also for error statuses."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def post_json(url, payload):
    """POST a JSON document; the server's JSON answer."""
    body = json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def total_price(base_url, ids):
    """The sum of the prices of the items with these ids."""
    total = 0.0
    for item_id in ids:
        with urllib.request.urlopen(f"{base_url}/items/{item_id}", timeout=5) as response:
            total += json.loads(response.read())["price"]
    return total


async def names_of_users(base_url):
    users = fetch_json(base_url + "/users")
    return [user["name"] for user in users]


async def statuses(base_url, paths):
    return [status_of(base_url + p) for p in paths]


def greeting_length(base_url):
    return len(fetch_text(base_url + "/hello"))
