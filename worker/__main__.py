"""``python -m worker`` starts the worker process (see :mod:`worker.process`)."""

from worker.process import main

if __name__ == "__main__":
    main()
