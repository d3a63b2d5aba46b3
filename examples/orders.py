"""A small order book, used by the README's first command and by the tests."""

import time
from dataclasses import dataclass


@dataclass
class Order:
    sku: str
    quantity: int
    unit_price: float


def summarize_orders(orders, discount_threshold=100.0, discount_rate=0.1):
    """Total the orders per SKU and apply a discount to large SKU totals."""
    totals = {}
    counts = {}
    for order in orders:
        if order.quantity <= 0:
            raise ValueError(f"order for {order.sku} has no quantity")
        amount = order.quantity * order.unit_price
        if order.sku in totals:
            totals[order.sku] = totals[order.sku] + amount
            counts[order.sku] = counts[order.sku] + order.quantity
        else:
            totals[order.sku] = amount
            counts[order.sku] = order.quantity
    result = []
    for sku in sorted(totals):
        total = totals[sku]
        if total >= discount_threshold:
            total = total - total * discount_rate
        result.append((sku, counts[sku], round(total, 2)))
    grand_total = 0.0
    for _, _, total in result:
        grand_total = grand_total + total
    return result, round(grand_total, 2)


def fetch_price(sku, delay=0.01):
    """Look a price up in the (slow) price service."""
    time.sleep(delay)
    return {"apple": 0.5, "pear": 0.75}.get(sku, 1.0)


def price_list(skus):
    return [fetch_price(sku) for sku in skus]
