def grow(xs):
    ys = xs
    ys.append(len(xs))
    xs.sort(reverse=True)
    return xs
