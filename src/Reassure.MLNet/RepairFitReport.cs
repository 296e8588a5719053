using System.Globalization;
using System.Text;
using Reassure.Reports;

namespace Reassure.MLNet;

/// <summary>A buggy row the repair did not fix.</summary>
/// <param name="Row">Row number in the fit data.</param>
/// <param name="ErrorCode">The engine's RSR code.</param>
/// <param name="Message">What went wrong.</param>
public sealed record UnfixedRow(int Row, string? ErrorCode, string? Message);

/// <summary>What <see cref="RepairEstimator.Fit"/> did.</summary>
/// <param name="Rows">Rows read.</param>
/// <param name="LabelledRows">Rows whose label is a class of the model (the accuracy denominator).</param>
/// <param name="BuggyRows">Row numbers repaired (the rows the model got wrong, or the marked rows).</param>
/// <param name="Fixed">Buggy rows that meet their specification after repair, in double and in float32.</param>
/// <param name="Unfixed">Buggy rows left unfixed, with the engine's reason.</param>
/// <param name="Patches">Number of patches (one per linear region of the buggy rows).</param>
/// <param name="Gammas">Support sharpness of each patch.</param>
/// <param name="EngineSeconds">Wall time of the engine.</param>
/// <param name="FitSeconds">Wall time of the whole Fit (reading, engine, export, scoring).</param>
/// <param name="LinearPrograms">Linear programs solved.</param>
/// <param name="AccuracyBefore">Accuracy of the original model on the fit rows (ONNX Runtime, float32).</param>
/// <param name="AccuracyAfter">Accuracy of the repaired model on the fit rows (through the transformer).</param>
/// <param name="SimplexLinearPrograms">Of the patch build's LPs, those the input-space dual simplex settled (the rest went to GLOP).</param>
public sealed record RepairFitReport(
    int Rows,
    int LabelledRows,
    IReadOnlyList<int> BuggyRows,
    int Fixed,
    IReadOnlyList<UnfixedRow> Unfixed,
    int Patches,
    IReadOnlyList<double> Gammas,
    double EngineSeconds,
    double FitSeconds,
    int LinearPrograms,
    double AccuracyBefore,
    double AccuracyAfter,
    int SimplexLinearPrograms = 0)
{
    /// <summary>
    /// Where the fitted transformer runs the repaired graph: <c>CPU</c>, or <c>CUDA device N</c> when
    /// <see cref="RepairEstimatorOptions.GpuDeviceId"/> (or <c>MLContext.GpuDeviceId</c>) got its provider.
    /// </summary>
    public string ExecutionProvider { get; init; } = "CPU";

    /// <summary>Things Fit did differently from what was asked, one line each (e.g. the CPU fallback of a GPU request, RSR1080).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Whether every buggy row is fixed.</summary>
    public bool AllFixed => Fixed == BuggyRows.Count;

    /// <summary>The engine's result and the fit rows, for the HTML report (set by <see cref="RepairEstimator.Fit"/>).</summary>
    internal Func<RepairReport>? HtmlSource { get; init; }

    /// <summary>
    /// The HTML report (Reassure.Reports): buggy rows fixed, accuracy per class before and after and the output change
    /// on the fit rows (in double), norm and gamma per patch, time by stage; self-contained, charts inline as SVG.
    /// </summary>
    public string ToHtml() => Html().ToHtml();

    /// <summary>Writes <see cref="ToHtml"/> to <paramref name="path"/> atomically.</summary>
    public void SaveHtml(string path) => Html().SaveHtml(path);

    private RepairReport Html() =>
        HtmlSource?.Invoke() ?? throw new InvalidOperationException("This report was not made by RepairEstimator.Fit: it has no engine result to show.");

    /// <summary>A small text table.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"rows                 {Rows} ({LabelledRows} labelled)");
        sb.AppendLine(c, $"buggy rows           {BuggyRows.Count}");
        sb.AppendLine(c, $"fixed                {Fixed} / {BuggyRows.Count}");
        sb.AppendLine(c, $"patches              {Patches}");
        if (Gammas.Count > 0)
            sb.AppendLine(c, $"gamma                min {Gammas.Min():G3}, max {Gammas.Max():G3}");
        sb.AppendLine(c, $"accuracy (fit rows)  {AccuracyBefore:P2} -> {AccuracyAfter:P2}");
        sb.AppendLine(c, $"time                 engine {EngineSeconds:F1} s ({LinearPrograms} LPs, {SimplexLinearPrograms} by the input-space simplex), fit {FitSeconds:F1} s");
        sb.AppendLine(c, $"runs on              {ExecutionProvider}");
        foreach (var w in Warnings)
            sb.AppendLine(w);
        foreach (var u in Unfixed.Take(10))
            sb.AppendLine(c, $"unfixed row {u.Row}: {u.ErrorCode} {u.Message}");
        return sb.ToString();
    }
}
