def count(xs, k):
    c = 0
    for x in xs:
        if x > k:
            c += 1
    return c
