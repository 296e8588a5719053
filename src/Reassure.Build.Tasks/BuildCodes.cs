namespace Reassure.Build.Tasks;

/// <summary>
/// Codes the MSBuild front door adds to <see cref="ErrorCodes"/>: a bad task parameter (bad input, RSR1xxx) and the
/// warnings of the gate (odd but legal cases, RSR21xx beside the RSR20xx gate errors).
/// </summary>
internal static class BuildCodes
{
    /// <summary>A task parameter (threshold, mode) that cannot be used.</summary>
    public const string InvalidParameter = ErrorCodes.InvalidOption;

    /// <summary>Warning: no buggy rows, nothing to repair; the model is copied through.</summary>
    public const string NothingToRepair = "RSR2101";

    /// <summary>Warning: no regression rows, the accuracy and locality gates are not checked.</summary>
    public const string NoRegressionRows = "RSR2102";

    /// <summary>Warning: a buggy row the original model already classifies as its label.</summary>
    public const string RowAlreadyCorrect = "RSR2103";

    /// <summary>Warning: the HTML report could not be drawn (its chart library's native part did not load); report.md is written.</summary>
    public const string HtmlReportNotWritten = "RSR2104";
}
