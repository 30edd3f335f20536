"""The admin studio's NLU inbox, learning loop and intent health (issue 16, part 2).

- :mod:`.labelling`: what a decision writes into the training data (through the
  training-data editor, so it is validated, audited and versioned like any edit);
- :mod:`.service`: the inbox, the FAQ candidates and their decisions, as JSON views;
- :mod:`.health`: confusable intents, thin intents, unused FAQ topics, conflicts.

The reader-store side (which messages, which candidates) is in ``crm_store.nlu_inbox``,
``crm_store.nlu_labels`` and ``crm_store.faq_candidates``, shared with the CLI.
"""

__all__: list[str] = []
