from django.apps import AppConfig


class OptimizerConfig(AppConfig):
    name = "optimizer"
    verbose_name = "Query Optimizer (workload capture, index and query recommendations)"
