using System.Globalization;
using Microsoft.Build.Utilities;
using Reassure.Networks;
using Reassure.Repair;

namespace Reassure.Build.Tasks;

/// <summary>
/// The release gate on a repair result: RSR2001 a buggy row not fixed, RSR2002 accuracy on the regression rows below
/// the allowed level, RSR2003 a regression row outside every support whose output changed (locality). Each error names
/// the file and the line. The checks read the result; they never repair anything themselves.
/// </summary>
internal static class RepairGate
{
    private const double Tolerance = 1e-12;

    /// <summary>Checks <paramref name="result"/> (null: nothing was repaired, the model is the original).</summary>
    public static GateFigures Check(TaskLoggingHelper log, Network original, RepairedView? result, RowsFile? buggy, RowsFile? regression, GateSettings settings,
        string? reportPath = null)
    {
        // RSR2001: every buggy row fixed.
        int fixedRows = 0, alreadyCorrect = 0;
        if (buggy is not null && result is not null)
        {
            for (int r = 0; r < buggy.Count; r++)
            {
                int label = buggy.Rows.Labels[r];
                if (Prediction.Of(original.Evaluate(buggy.Rows.Inputs[r])) == label)
                {
                    alreadyCorrect++;
                    log.Warning(BuildCodes.RowAlreadyCorrect, buggy.Path, buggy.Lines[r], Resources.BuggyRowAlreadyCorrect, buggy.Name(r), label);
                }
                var status = result.Inputs[r];
                if (status.IsFixed) { fixedRows++; continue; } // Core's one answer: an RSR3006 row is not fixed
                string why = status.ErrorCode is null ? status.Message ?? "" : $"{status.ErrorCode} {status.Message}";
                log.Error(ErrorCodes.GateNotFixed, buggy.Path, buggy.Lines[r], Resources.RowNotFixed, buggy.Name(r), label, why);
            }
        }

        // RSR2002 and RSR2003 on the regression rows.
        int correctBefore = 0, correctAfter = 0, outside = 0, violations = 0;
        double required = settings.MinAccuracy ?? 0;
        if (regression is not null)
        {
            var rows = regression.Rows;
            var outcome = result is null
                ? RegressionCheck.Measure(x => original.Evaluate(x), null, null, rows.Inputs, rows.Labels)
                : RegressionCheck.Measure(x => original.Evaluate(x), result.Evaluate, result.InAnySupport, rows.Inputs, rows.Labels);
            correctBefore = outcome.CorrectBefore;
            correctAfter = outcome.CorrectAfter;
            int n = rows.Count;
            double before = outcome.AccuracyBefore, after = outcome.AccuracyAfter;
            double byDrop = before - settings.MaxAccuracyDrop / 100;
            string hint = Hint(outcome, regression, settings, reportPath);
            required = Math.Max(byDrop, settings.MinAccuracy ?? double.NegativeInfinity);
            if (after < byDrop - Tolerance)
                log.Error(ErrorCodes.GateAccuracy, regression.Path, 0, Resources.AccuracyDropped,
                    Accuracy.Percent(before), correctBefore, n, Accuracy.Percent(after), correctAfter,
                    settings.MaxAccuracyDrop.ToString("0.###", CultureInfo.InvariantCulture), Accuracy.Percent(Math.Max(byDrop, 0)), hint);
            if (settings.MinAccuracy is double floor && after < floor - Tolerance)
                log.Error(ErrorCodes.GateAccuracy, regression.Path, 0, Resources.AccuracyBelowFloor,
                    Accuracy.Percent(after), correctAfter, n, Accuracy.Percent(before), Accuracy.Percent(floor), hint);
            outside = outcome.OutsideSupports;
            violations = outcome.LocalityViolations.Count;
            foreach (int r in outcome.LocalityViolations)
            {
                var x = rows.Inputs[r];
                log.Error(ErrorCodes.GateLocality, regression.Path, regression.Lines[r], Resources.LocalityViolated,
                    regression.Name(r), Join(result!.Evaluate(x)), Join(original.Evaluate(x)), reportPath ?? "the repair report");
            }
        }

        return new GateFigures(buggy?.Count ?? 0, result is null ? 0 : fixedRows, alreadyCorrect,
            regression?.Count ?? 0, correctBefore, correctAfter, required, outside, violations,
            Passed: !log.HasLoggedErrors);
    }

    /// <summary>RSR2002's help: which rows regressed (file lines), how many lie in a support, the usual fix and the report.</summary>
    private static string Hint(RegressionOutcome outcome, RowsFile regression, GateSettings settings, string? reportPath)
    {
        if (outcome.Regressed.Count == 0) return reportPath is null ? "" : $"Details: {reportPath}";
        const int shown = 10;
        var lines = string.Join(", ", outcome.Regressed.Take(shown).Select(r => "line " + regression.Lines[r].ToString(CultureInfo.InvariantCulture)));
        string more = outcome.Regressed.Count > shown ? $" and {outcome.Regressed.Count - shown} more" : "";
        string gamma = (settings.Gamma ?? new RepairOptions().Gamma).ToString("G4", CultureInfo.InvariantCulture);
        return TaskLogExtensions.Format(Resources.RegressionHint, lines, more, outcome.RegressedInSupport, outcome.Regressed.Count, gamma,
            reportPath ?? "the repair report (ReassureReport)");
    }

    private static string Join(double[] y) => string.Join(", ", y.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
