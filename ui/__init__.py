"""Gradio tab builders: each module's ``build()`` only creates widgets and calls nst_core / explorer."""
