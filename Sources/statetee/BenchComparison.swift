import JSONDiff

/// JSONDiff's comparison result, named where Foundation's `ComparisonResult` is not in scope.
typealias BenchComparison = ComparisonResult
