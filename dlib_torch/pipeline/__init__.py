"""The pipeline: one set of stage runners (stages) and the pipelines composed of them.

study_model runs one model of a study (dreproduce), weakly_supervised and
semi_supervised the original's flag-driven pipelines (dreproduce_weak,
dreproduce_semi), launch many models as local jobs or a SLURM array.
"""
