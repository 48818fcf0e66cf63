"""The Hugging Face Spaces entry point: ``python app.py`` serves the studio (the code is in ``nst_studio``)."""
from nst_studio.app import main

if __name__ == "__main__":
    main()
