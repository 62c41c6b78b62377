"""The image studio's state and behaviour, without widgets.

``state.py`` holds the state as typed traits (views observe them); ``controller.py`` composes the parts that
change it, each owning one job (``loading``, ``create_loop``, ``power``, ``row_actions``, ``proof_actions``,
``rotation``, ``activity``); ``outcome.py`` runs every call (busy, then the outcome); ``tasks.py`` runs them on one
event loop; ``explain.py`` words errors.
"""
