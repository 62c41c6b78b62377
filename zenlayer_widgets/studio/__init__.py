"""The image studio's state and behaviour, without widgets.

``state.py`` holds the state as typed traits (views observe them); ``controller.py`` adds the calls
(load, stop, delete, create); ``tasks.py`` runs them on one event loop; ``explain.py`` words errors.
"""
