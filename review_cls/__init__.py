"""review_cls: fine-tune BERT-family encoders to sort app-store reviews into product-team categories."""

__version__ = "0.1.0"
