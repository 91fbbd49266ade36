def ratio(a, b):
    c = a + b
    d = a / b
    return d
