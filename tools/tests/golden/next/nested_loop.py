def pairs(n):
    out = []
    for i in range(n):
        for j in range(i):
            out.append((j, i))
    return len(out)
