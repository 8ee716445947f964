"""review_cls: fine-tune BERT-family encoders to sort app-store reviews into product-team categories."""

from review_cls.utils.resolvers import register_resolvers

__version__ = "0.1.0"

register_resolvers()
