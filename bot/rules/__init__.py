"""The contest rules: phases and times, what a caption may be, who may vote, how votes rank.

Plain Python that imports neither discord nor SQL, so every rule is tested in microseconds.
"""
