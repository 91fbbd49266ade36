def total(n):
    s = 0
    for k in range(n):
        s += k
    return s
