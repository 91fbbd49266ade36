def shout(word):
    text = (word + " ") * 20
    return text.upper()
