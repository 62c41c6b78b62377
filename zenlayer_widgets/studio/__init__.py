"""The image studio's state and behaviour, without widgets: the controller, its tasks, error explanations."""
