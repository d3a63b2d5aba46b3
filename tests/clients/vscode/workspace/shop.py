"""A small shop: prices, baskets and receipts."""
import time

PRICES = {"apple": 0.5, "pear": 0.75, "plum": 1.25}


def fetch_price(sku, delay=0.01):
    """Look a price up in the slow price service."""
    time.sleep(delay)
    return PRICES.get(sku, 1.0)


async def basket_total(skus):
    total = 0.0
    for sku in skus:
        total += fetch_price(sku)
    return total


def shout(text):
    """Make a message loud."""
    return "¡" + text.upper() + "!"


def receipt_lines(items, tax_rate=0.2, currency="EUR"):
    lines = []
    subtotal = 0.0
    for item in items:
        name = item["name"]
        quantity = item["quantity"]
        price = PRICES.get(name)
        if price is None:
            price = 1.0
        cost = price * quantity
        subtotal += cost
        lines.append(f"{name} x{quantity}: {round(cost, 2)} {currency}")
    tax = subtotal * tax_rate
    total = subtotal + tax
    summary = [("subtotal", subtotal), ("tax", tax), ("total", total)]
    for label, amount in summary:
        lines.append(f"{label}: {round(amount, 2)} {currency}")
    return lines
