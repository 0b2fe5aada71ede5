"""One module per letter kind, each with ``letter_story(data)``: the letter's body as
platypus flowables, between the shared opening and greeting (``letters.blocks``)."""
