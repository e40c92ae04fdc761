"""The core: data, models and training in pure Python + torch + numpy; never imports Qt."""
