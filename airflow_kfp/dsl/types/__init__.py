"""KFP's ``kfp.dsl.types`` import paths, for ported scripts that import artifact classes from there."""
