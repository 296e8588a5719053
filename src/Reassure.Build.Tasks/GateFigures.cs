namespace Reassure.Build.Tasks;

/// <summary>What the gate measured, for the log summary and the Markdown report.</summary>
/// <param name="BuggyRows">Buggy rows given (0 when none).</param>
/// <param name="FixedRows">Buggy rows the repaired model classifies as their label.</param>
/// <param name="AlreadyCorrect">Buggy rows the original model already classified as their label.</param>
/// <param name="RegressionRows">Regression rows given (0 when none).</param>
/// <param name="CorrectBefore">Regression rows the original model classifies as their label.</param>
/// <param name="CorrectAfter">Regression rows the repaired model classifies as their label.</param>
/// <param name="RequiredAccuracy">The lowest accuracy the gate accepts (the larger of both thresholds).</param>
/// <param name="OutsideSupports">Regression rows outside every patch support (the rows the locality check covers).</param>
/// <param name="LocalityViolations">Of those, rows whose output changed.</param>
/// <param name="Passed">No gate error.</param>
internal sealed record GateFigures(
    int BuggyRows, int FixedRows, int AlreadyCorrect,
    int RegressionRows, int CorrectBefore, int CorrectAfter, double RequiredAccuracy,
    int OutsideSupports, int LocalityViolations, bool Passed)
{
    public double AccuracyBefore => RegressionRows == 0 ? double.NaN : (double)CorrectBefore / RegressionRows;

    public double AccuracyAfter => RegressionRows == 0 ? double.NaN : (double)CorrectAfter / RegressionRows;
}
