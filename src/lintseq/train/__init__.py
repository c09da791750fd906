"""Fine-tuning causal LMs on edit sequences (or whole programs): tokenization with exact
completion-only masking, a training loop on accelerate, model configs and imports.

Loaded only by `lintseq train` / `sample` / `model`: importing lintseq never imports torch.
"""
