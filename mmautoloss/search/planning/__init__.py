"""Planning a search on a user's own OpenMMLab config (``tools/plan_search.py``): its loss
slots (``loss_slots``), the proxy derived from it (``proxy_config``), what each method
needs (``method_plan``), the timing probe and forecast (``forecast``), and the written plan
(``plan``)."""
