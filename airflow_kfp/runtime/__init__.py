"""Code that runs next to the user's code, in a subprocess or a pod: standard library only."""
