"""The WBM API: the FastAPI app the web server serves beside the WBM pages (`app.create_app`), one router
per concern, every route decided by the role matrix (`chargepark.auth.matrix`). See docs/wbm-api.md."""
