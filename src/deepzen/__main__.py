"""``python -m deepzen ...`` runs the command line (same as the ``deepzen`` script)."""

from deepzen.cli import main

if __name__ == "__main__":
    main()
