"""The admin studio (issue 16): training-data editor, NLU inbox, learning loop, models.

Sub-packages: ``training_data`` (the YAML editor), ``inbox`` (real misses, FAQ
candidates, intent health) and ``models`` (train, evaluate, activate, roll back).
"""

__all__: list[str] = []
