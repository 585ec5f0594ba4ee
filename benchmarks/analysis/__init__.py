"""Analysis: pure functions over records and the dataset (crossover, the epoch model, the plan).

Nothing here measures and nothing renders: the CLI's summary and :mod:`reports` call in, and this
package imports only :mod:`loaders` and the lower parts of :mod:`benchmarks` (records, dataset).
"""
