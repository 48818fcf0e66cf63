"""The studio's Gradio app: `app.build_app()` and one module per tab, whose `build()` only creates widgets and calls nst_core / explorer."""
