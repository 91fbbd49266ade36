def safe_div(a, b):
    try:
        q = a // b
    except ZeroDivisionError:
        q = None
    return q
