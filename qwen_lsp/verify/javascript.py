from .report import unchecked


def check_javascript(*a, **k):
    return unchecked("todo")
